// How to start a worker thread whose entry is `./workers/<name>`. Built, every
// entry is a sibling .js file of the bundle (out/native/); from source
// (vitest, tsx) the .ts entry is loaded through a small tsx bootstrap.
export function workerEntry(name: string, workerData: Record<string, unknown>): { url: URL; workerData: Record<string, unknown> } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    return { url: new URL('./workers/ts-bootstrap.mjs', here), workerData: { ...workerData, __tsEntry: new URL(`./workers/${name}.ts`, here).href } };
  }
  return { url: new URL(`./${name}.js`, here), workerData };
}
