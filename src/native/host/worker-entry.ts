// Where a worker's entry file is. Built, every entry is a sibling .js file of
// the bundle (out/native/); from source (vitest, tsx) it is the .ts file in
// ./workers, run through tsx.
export function workerEntry(name: string): { url: URL; execArgv: string[] } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return { url: new URL(`./workers/${name}.ts`, here), execArgv: ['--import', 'tsx'] };
  return { url: new URL(`./${name}.js`, here), execArgv: [] };
}
