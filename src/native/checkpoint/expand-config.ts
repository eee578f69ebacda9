// config.json of an expanded model: the base config with only what depth
// changes rewritten, keys and their order otherwise untouched (so a 4.x file
// stays 4.x and a 5.x file stays 5.x). Users of other tools had to edit
// num_hidden_layers by hand; here it is never out of step with the weights.
import type { ModelConfig } from './hf-config';
import type { ExpansionPlan } from './expand-plan';

/** Top-level config lists with one entry per layer; a new block takes its source's entry. */
export const perLayerListKeys = ['layer_types', 'no_rope_layers'];

export function expandedConfigJson(raw: Record<string, unknown>, config: ModelConfig, plan: ExpansionPlan): { json: Record<string, unknown>; changed: string[] } {
  const out: Record<string, unknown> = { ...raw };
  const changed = ['num_hidden_layers'];
  out.num_hidden_layers = plan.newDepth;

  for (const key of perLayerListKeys) {
    const list = raw[key];
    if (Array.isArray(list) && list.length === config.numLayers) {
      out[key] = plan.layers.map((l) => list[l.source]);
      changed.push(key);
    }
  }

  // Qwen: layers with index < max_window_layers use full attention. Move the
  // boundary to where old block `max_window_layers` now sits, so every old
  // block keeps its attention kind; when it covers all blocks it keeps doing so.
  const mwl = raw.max_window_layers;
  if (typeof mwl === 'number' && Number.isInteger(mwl) && mwl >= 0) {
    const next = mwl < config.numLayers ? plan.oldToNew[mwl] : Math.max(mwl, plan.newDepth);
    if (next !== mwl) {
      out.max_window_layers = next;
      changed.push('max_window_layers');
    }
  }
  return { json: out, changed };
}
