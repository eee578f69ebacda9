import fs from 'node:fs/promises';
import { DeepenError } from '../../shared/errors';

// Reading the small JSON files that sit next to a checkpoint (tokenizer.json,
// tokenizer_config.json, generation_config.json, config.json). Every failure
// becomes a DeepenError that names the file and says what to do, because these
// messages end up in the chat pane and the CLI as they are.

export type JsonObject = Record<string, unknown>;

/** The file's JSON object, or null when the file does not exist. */
export async function readJsonObjectIfExists(file: string, what: string): Promise<JsonObject | null> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') return null;
    if (code === 'EISDIR') throw new DeepenError('bad_file', `${file} is a folder, but Deepen expected the ${what} file there. Move the folder away.`, { file });
    throw new DeepenError('bad_file', `Could not read the ${what} ${file}: ${(err as Error).message}. Check that the file is readable.`, { file });
  }
  return parseJsonObject(text, file, what);
}

export async function readJsonObject(file: string, what: string, hint: string): Promise<JsonObject> {
  const obj = await readJsonObjectIfExists(file, what);
  if (obj === null) throw new DeepenError('not_found', `${file} does not exist. ${hint}`, { file });
  return obj;
}

export function parseJsonObject(text: string, file: string, what: string): JsonObject {
  let value: unknown;
  try {
    // A BOM would make JSON.parse fail on files saved by some Windows editors.
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new DeepenError(
      'bad_file',
      `The ${what} ${file} is not valid JSON (${(err as Error).message}). The file is probably truncated or was edited by hand: download it again from the model's repository.`,
      { file },
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DeepenError('bad_file', `The ${what} ${file} should hold a JSON object but holds ${Array.isArray(value) ? 'an array' : typeof value}. Download it again from the model's repository.`, { file });
  }
  return value as JsonObject;
}

export async function readTextIfExists(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return null;
    throw new DeepenError('bad_file', `Could not read ${file}: ${(err as Error).message}. Check that the file is readable.`, { file });
  }
}
