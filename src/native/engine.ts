// Bundle entry of the engine process of the desktop app (out/native/engine.js).
// Electron's main process starts it with utilityProcess.fork and hands it one
// MessagePort per window; the engine serves the contract on each.
import { EngineHost } from './host/host';
import { resolveDataDir } from './host/paths';
import { portTransport, type PortLike } from './host/transports';

interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown; ports: PortLike[] }) => void): void;
  postMessage(message: unknown): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!parentPort) {
  process.stderr.write('out/native/engine.js is started by the Deepen desktop app. For a terminal, use `deepen serve`.\n');
  process.exit(2);
}

let host: EngineHost;
try {
  host = new EngineHost({ dataDir: resolveDataDir() });
  host.resumeWork();
  parentPort.postMessage({ type: 'ready', dataDir: host.dataDir });
} catch (err) {
  parentPort.postMessage({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}

parentPort.on('message', (e) => {
  const data = e.data as { type?: string };
  if (data?.type === 'connect' && e.ports[0]) host.connect(portTransport(e.ports[0]));
  if (data?.type === 'shutdown') void host.close().then(() => process.exit(0));
});
