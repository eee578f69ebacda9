// Which execution providers this machine offers, which one the user picked,
// and which one engine work actually uses. A picked provider that fails to
// initialise falls back to CPU with the reason kept for the UI.
import type { ProviderName, ProviderStatus } from '../../shared/contract/engine';

export interface ProviderChoice {
  active: ProviderName;
  fallbackReason: string | null;
}

export class ProviderState {
  private probes: Promise<ProviderStatus[]> | null = null;

  /** Probes once (a one-node session per provider); `refresh` probes again. */
  list(refresh = false): Promise<ProviderStatus[]> {
    if (!this.probes || refresh) {
      this.probes = import('../onnx/runtime').then(async (rt) => (await rt.probeProviders()).map(explainProbe));
    }
    return this.probes;
  }

  async choose(preferred: ProviderName): Promise<ProviderChoice> {
    return chooseProvider(preferred, await this.list());
  }
}

export function chooseProvider(preferred: ProviderName, probes: ProviderStatus[]): ProviderChoice {
  if (preferred === 'cpu') return { active: 'cpu', fallbackReason: null };
  const p = probes.find((x) => x.name === preferred);
  if (p?.ok) return { active: preferred, fallbackReason: null };
  const why = p ? p.reason || 'it failed to initialise' : 'it is not offered on this machine';
  return { active: 'cpu', fallbackReason: `Using CPU: the ${preferred} provider is unavailable (${why}).` };
}

/** ORT's own words for a missing CUDA install are cryptic; say what it means and what to do. */
export function explainProbe(p: ProviderStatus): ProviderStatus {
  if (p.ok || p.name !== 'cuda' || !/load (the )?shared library|providers_shared|providers_cuda/i.test(p.reason ?? '')) return p;
  return {
    ...p,
    reason: 'the CUDA libraries are not installed (npm install skips their download). On a machine with an NVIDIA GPU, use "Install CUDA provider" in Settings or `deepen doctor --install-cuda`.',
  };
}
