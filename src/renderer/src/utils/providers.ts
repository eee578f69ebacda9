// Display names and one-line descriptions of the execution providers.
import type { ProviderName } from '@shared/contract';

export const providerLabels: Record<ProviderName, string> = {
  cpu: 'CPU',
  webgpu: 'WebGPU',
  cuda: 'CUDA',
  dml: 'DirectML',
};

export const providerDescriptions: Record<ProviderName, string> = {
  cpu: 'Runs everywhere. The reference for correctness; slowest for large models.',
  webgpu: 'Any GPU through Vulkan, Metal or Direct3D 12. The portable GPU path.',
  cuda: 'NVIDIA GPUs on Linux and Windows. The fast path on NVIDIA hardware.',
  dml: 'DirectX 12 GPUs on Windows.',
};
