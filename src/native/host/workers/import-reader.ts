// Entry of an import's reader thread (see src/native/data/import/reader-thread.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { runReaderThread, type ReaderInput } from '../../data/import/reader-thread';

void runReaderThread((workerData as { input: ReaderInput }).input, parentPort!);
