// Job kinds → their runners, loaded lazily inside the worker so that a job
// pays only for the modules it uses (onnxruntime-node is large).
import type { JobRunner } from './job-types';

type Loader = () => Promise<JobRunner<any, any>>;

export const jobRunners: Record<string, Loader> = {
  selftest: async () => (await import('./selftest-job')).runSelftestJob,
  expand: async () => (await import('./expand-job')).runExpandModelJob,
  'install-cuda': async () => (await import('./install-cuda-job')).runInstallCudaJob,
  'dataset-import': async () => (await import('./dataset-jobs')).runDatasetImportJob,
  'dataset-index': async () => (await import('./dataset-jobs')).runDatasetIndexJob,
  'dataset-delete': async () => (await import('./dataset-jobs')).runDatasetDeleteJob,
  'dataset-delete-where': async () => (await import('./dataset-jobs')).runDatasetDeleteWhereJob,
  'dataset-split': async () => (await import('./dataset-jobs')).runDatasetSplitJob,
  'dataset-export': async () => (await import('./dataset-jobs')).runDatasetExportJob,
  'dataset-tokens': async () => (await import('./dataset-jobs')).runDatasetTokensJob,
  'model-load': async () => (await import('./model-load-job')).runModelLoadJob,
  export: async () => (await import('./export-job')).runExportJob,
};

/**
 * What a job of this kind may leave on disk when its worker is stopped from
 * outside (cancel grace period over) or crashes, before it could clean up
 * itself. Runs in the engine after the worker is gone; returns what it removed.
 */
export const jobLeftovers: Record<string, (input: any) => Promise<string[]>> = {
  expand: async (input: { outDir?: string }) => (input?.outDir ? (await import('../../fs-write')).removePartialOutputs(input.outDir) : []),
  export: async (input: { out?: string }) => (input?.out ? (await import('../../fs-write')).removePartialOutputs(input.out) : []),
};

export function isJobKind(kind: string): boolean {
  return Object.prototype.hasOwnProperty.call(jobRunners, kind);
}
