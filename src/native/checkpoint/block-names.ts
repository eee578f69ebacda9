// Decoder-block tensor names, matched exactly. A name is a block tensor when it
// is `<prefix><index>.<suffix>` with prefix `model.layers.` (HF *ForCausalLM)
// or `layers.` (a bare *Model). Substring matching (as some scripts do) would
// take e.g. `model.layers.1.` for part of `model.layers.10.`; we never do.
import { DeepenError } from '../../shared/errors';

/** Tensors of a new block that are zeroed so that the block starts as the identity. */
export const zeroedSuffixes = ['self_attn.o_proj.weight', 'self_attn.o_proj.bias', 'mlp.down_proj.weight', 'mlp.down_proj.bias'] as const;
/** Without these a block copy cannot be made an identity. */
export const requiredSuffixes = ['self_attn.o_proj.weight', 'mlp.down_proj.weight'] as const;

const blockName = /^((?:model\.)?layers\.)(0|[1-9][0-9]*)\.(.+)$/;

export interface ParsedBlockName {
  prefix: string;
  index: number;
  suffix: string;
}

export function parseBlockName(name: string): ParsedBlockName | null {
  const m = blockName.exec(name);
  if (!m) return null;
  const index = Number(m[2]);
  return Number.isSafeInteger(index) ? { prefix: m[1], index, suffix: m[3] } : null;
}

export function blockTensorName(prefix: string, index: number, suffix: string): string {
  return `${prefix}${index}.${suffix}`;
}

export function isZeroedSuffix(suffix: string): boolean {
  return (zeroedSuffixes as readonly string[]).includes(suffix);
}

export interface BlockLayout {
  /** 'model.layers.' or 'layers.' */
  prefix: string;
  /** per block index, its tensors' suffixes in name order, e.g. ['input_layernorm.weight', 'mlp.down_proj.weight', …] */
  blocks: string[][];
  /** tensors outside the blocks (embeddings, final norm, lm_head), in name order */
  other: string[];
}

/**
 * Groups tensor names by block and checks them against `numLayers` from
 * config.json: blocks must be exactly 0..numLayers-1, each with o_proj and
 * down_proj. `where` names the checkpoint in messages.
 */
export function analyzeBlocks(names: Iterable<string>, numLayers: number, where: string): BlockLayout {
  const prefixes = new Set<string>();
  const byIndex = new Map<number, string[]>();
  const other: string[] = [];
  for (const name of names) {
    const p = parseBlockName(name);
    if (!p) {
      other.push(name);
      continue;
    }
    prefixes.add(p.prefix);
    const list = byIndex.get(p.index) ?? [];
    list.push(p.suffix);
    byIndex.set(p.index, list);
  }
  if (prefixes.size > 1) {
    throw new DeepenError('bad_file', `${where} mixes block names with prefixes ${[...prefixes].map((p) => `"${p}"`).join(' and ')}; a checkpoint must use one.`, { dir: where });
  }
  const indices = [...byIndex.keys()].sort((a, b) => a - b);
  const extra = indices.filter((i) => i >= numLayers);
  const missing: number[] = [];
  for (let i = 0; i < numLayers && missing.length < 5; i++) if (!byIndex.has(i)) missing.push(i);
  if (extra.length || missing.length) {
    const found = indices.length ? `blocks ${indices[0]}–${indices[indices.length - 1]} (${indices.length})` : 'no blocks';
    throw new DeepenError(
      'bad_file',
      `config.json in ${where} says num_hidden_layers = ${numLayers}, but the safetensors hold ${found}${missing.length ? `; missing block ${missing.join(', ')}` : ''}. The config and weights do not belong together.`,
      { dir: where, numLayers, missing, extra: extra.slice(0, 5) },
    );
  }
  const blocks = Array.from({ length: numLayers }, (_, i) => byIndex.get(i)!.sort());
  blocks.forEach((suffixes, i) => {
    for (const req of requiredSuffixes) {
      if (!suffixes.includes(req)) {
        throw new DeepenError('unsupported', `Block ${i} of ${where} has no "${[...prefixes][0]}${i}.${req}". Deepen makes a new block an identity by zeroing o_proj and down_proj, so it needs both.`, {
          dir: where,
          tensor: `${[...prefixes][0]}${i}.${req}`,
        });
      }
    }
  });
  return { prefix: [...prefixes][0] ?? 'model.layers.', blocks, other: other.sort() };
}
