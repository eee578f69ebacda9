// How model figures read on the Models and Expand pages.
import type { ExpandStrategy, ModelRecord, PreservationCheck } from '@shared/contract';

/** "6.74 B", "229.9 K": parameter counts as model cards write them. */
export function formatParams(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (abs >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

/** A max |Δlogit| in scientific notation ("3.1e-6"), 0 as "0". */
export function formatDelta(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  return x.toExponential(1).replace('e-', 'e−');
}

export function familyLabel(family: string): string {
  return ({ llama: 'Llama', mistral: 'Mistral', qwen2: 'Qwen2', qwen3: 'Qwen3' } as Record<string, string>)[family] ?? family;
}

export const strategyLabels: Record<ExpandStrategy, string> = {
  interleaved: 'Interleaved',
  top: 'Top',
  bottom: 'Bottom',
  custom: 'Custom',
};

/** One line on the numerical check, for badges and the Models page. */
export function preservationText(p: PreservationCheck | null): string {
  if (!p) return 'not run';
  switch (p.state) {
    case 'passed':
      return `max |Δlogit| ${formatDelta(p.maxAbsDiff)} — outputs equal the base model's`;
    case 'failed':
      return `max |Δlogit| ${formatDelta(p.maxAbsDiff)} — above ${formatDelta(p.tolerance)}: the outputs differ from the base model's`;
    case 'pending':
      return 'numerical check pending';
    case 'unavailable':
      return 'numerical check could not run';
  }
}

/** "expanded from llama-tiny (+2 blocks)" */
export function lineageText(m: ModelRecord): string {
  const l = m.lineage;
  if (!l) return 'added from a folder';
  const added = l.plan ? ` (+${l.plan.added} block${l.plan.added === 1 ? '' : 's'})` : '';
  return `${l.kind === 'expanded' ? 'expanded' : 'trained'} from ${l.parentName}${added}`;
}
