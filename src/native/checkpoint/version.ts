// The version written into expanded models (`deepen_expansion.json`,
// safetensors `__metadata__`). The bundle defines __DEEPEN_VERSION__; run from
// source (tests, tsx) we read package.json.
import { createRequire } from 'node:module';

declare const __DEEPEN_VERSION__: string | undefined;

function fromPackageJson(): string {
  try {
    return (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export const toolVersion: string = typeof __DEEPEN_VERSION__ !== 'undefined' ? __DEEPEN_VERSION__ : fromPackageJson();
