// A Hugging Face model folder opened for reading: normalized config, every
// tensor's location, and which tokenizer / chat-template files sit beside it.
import fs from 'node:fs/promises';
import path from 'node:path';
import { DeepenError } from '../../shared/errors';
import { analyzeBlocks, type BlockLayout } from './block-names';
import { parseHfConfig, type ModelConfig } from './hf-config';
import { readTensorSet } from './safetensors-index';
import { TensorFileReader, type SafetensorsFile, type TensorInfo } from './safetensors-reader';

export const CONFIG_FILE = 'config.json';

/** Files a tokenizer may consist of (any present are carried over by expansion). */
export const tokenizerFiles = ['tokenizer.json', 'tokenizer.model', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json', 'vocab.json', 'merges.txt'];
/** Other files that belong with the weights and are copied unchanged. */
export const companionFiles = ['generation_config.json', 'chat_template.jinja', 'chat_template.json'];
/** Licences must travel with derived weights (e.g. the Llama licence requires it). */
const licencePattern = /^(LICEN[CS]E|NOTICE|USE_POLICY)(\.[A-Za-z0-9]+)?$/i;

export interface Checkpoint {
  dir: string;
  config: ModelConfig;
  /** config.json as read */
  rawConfig: Record<string, unknown>;
  tensors: Map<string, TensorInfo>;
  files: SafetensorsFile[];
  indexFile: string | null;
  /** `__metadata__` of the (first) safetensors file */
  metadata: Record<string, string>;
  blocks: BlockLayout;
  hasTokenizer: boolean;
  /** where the chat template lives: a file name, 'tokenizer_config.json', or null */
  chatTemplate: string | null;
  /** non-weight files to carry into a derived model (tokenizer, generation config, templates, licence) */
  companionFiles: string[];
  warnings: string[];
  readTensor(name: string): Promise<Buffer>;
  /** `length` bytes of a tensor from `start`, into `into` if given */
  readChunk(name: string, start: number, length: number, into?: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

export async function readConfigFile(dir: string): Promise<{ config: ModelConfig; raw: Record<string, unknown> }> {
  const file = path.join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DeepenError('not_found', `${dir} has no config.json. Choose a Hugging Face model folder (config.json + *.safetensors + tokenizer files).`, { dir, file });
    }
    throw new DeepenError('bad_file', `Could not read ${file}: ${(err as Error).message}.`, { file });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DeepenError('bad_file', `${file} is not valid JSON (${(err as Error).message}). Re-download the model's config.json.`, { file });
  }
  return parseHfConfig(json, file);
}

export async function openCheckpoint(dirArg: string): Promise<Checkpoint> {
  const dir = path.resolve(dirArg);
  const stat = await fs.stat(dir).catch(() => null);
  if (!stat?.isDirectory()) throw new DeepenError('not_found', `${dir} is not a folder. Choose the folder holding config.json and the .safetensors files.`, { dir });

  const { config, raw } = await readConfigFile(dir);
  const set = await readTensorSet(dir);
  const warnings = [...set.warnings];
  const blocks = analyzeBlocks(set.tensors.keys(), config.numLayers, dir);
  checkShapes(config, set.tensors, dir, warnings);

  // Files only (a symlink counts when it points at a file, as in the HF cache).
  const entries: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    if (e.isFile() || (e.isSymbolicLink() && (await fs.stat(path.join(dir, e.name)).catch(() => null))?.isFile())) entries.push(e.name);
  }
  const present = new Set(entries);
  const chatTemplate = await findChatTemplate(dir, present);
  const companions = [...tokenizerFiles, ...companionFiles].filter((f) => present.has(f));
  companions.push(...entries.filter((e) => licencePattern.test(e)).sort());

  const reader = new TensorFileReader();
  const info = (name: string): TensorInfo => {
    const t = set.tensors.get(name);
    if (!t) throw new DeepenError('not_found', `${dir} has no tensor "${name}".`, { dir, tensor: name });
    return t;
  };
  return {
    dir,
    config,
    rawConfig: raw,
    tensors: set.tensors,
    files: set.files,
    indexFile: set.indexFile,
    metadata: set.metadata,
    blocks,
    hasTokenizer: present.has('tokenizer.json') || present.has('tokenizer.model') || (present.has('vocab.json') && present.has('merges.txt')),
    chatTemplate,
    companionFiles: companions,
    warnings,
    readTensor: (name) => reader.read(info(name)),
    readChunk: (name, start, length, into) => reader.readChunk(info(name), start, length, into),
    close: () => reader.close(),
  };
}

async function findChatTemplate(dir: string, present: Set<string>): Promise<string | null> {
  if (present.has('chat_template.jinja')) return 'chat_template.jinja';
  if (present.has('chat_template.json')) return 'chat_template.json';
  if (!present.has('tokenizer_config.json')) return null;
  try {
    const tc = JSON.parse(await fs.readFile(path.join(dir, 'tokenizer_config.json'), 'utf8')) as { chat_template?: unknown };
    const t = tc?.chat_template;
    return (typeof t === 'string' && t.length > 0) || (Array.isArray(t) && t.length > 0) ? 'tokenizer_config.json' : null;
  } catch {
    return null; // a broken tokenizer_config.json is the tokenizer's problem, reported when it loads
  }
}

/** Shapes that must agree with config.json; a mismatch means config and weights do not belong together. */
function checkShapes(config: ModelConfig, tensors: Map<string, TensorInfo>, dir: string, warnings: string[]): void {
  const expect = (name: string, shape: number[]) => {
    const t = tensors.get(name);
    if (t && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
      throw new DeepenError('bad_file', `Tensor "${name}" in ${path.basename(t.file)} has shape [${t.shape.join(', ')}], but config.json implies [${shape.join(', ')}]. The config and weights do not belong together.`, {
        dir,
        file: t.file,
        tensor: name,
      });
    }
  };
  const prefix = tensors.has('model.embed_tokens.weight') ? 'model.' : '';
  expect(`${prefix}embed_tokens.weight`, [config.vocabSize, config.hiddenSize]);
  expect('lm_head.weight', [config.vocabSize, config.hiddenSize]);
  expect(`${prefix}layers.0.self_attn.q_proj.weight`, [config.numHeads * config.headDim, config.hiddenSize]);
  expect(`${prefix}layers.0.self_attn.k_proj.weight`, [config.numKvHeads * config.headDim, config.hiddenSize]);
  expect(`${prefix}layers.0.mlp.down_proj.weight`, [config.hiddenSize, config.intermediateSize]);
  if (!config.tieWordEmbeddings && prefix === 'model.' && !tensors.has('lm_head.weight')) {
    warnings.push('config.json says tie_word_embeddings is false, but there is no lm_head.weight: loaders will start lm_head from random values.');
  }
}
