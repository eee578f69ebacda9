// Finds a Vulkan driver for ONNX Runtime's WebGPU EP (Dawn). On CPU-only CI
// machines that is Mesa lavapipe (scripts/ci-install-webgpu.sh installs it);
// VK_ICD_FILENAMES must name its json before the first WebGPU session starts.
import fs from 'node:fs';
import path from 'node:path';

const icdDirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
const loaderLibs = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1', '/usr/lib/libvulkan.so.1'];

/** Why WebGPU tests can't run here, or null when a Vulkan driver was found (and VK_ICD_FILENAMES set for lavapipe). */
export function vulkanUnavailableReason(): string | null {
  if (process.platform !== 'linux') return null; // Metal / D3D12 need no setup
  if (!loaderLibs.some((f) => fs.existsSync(f))) return 'no Vulkan loader (libvulkan1) is installed; run scripts/ci-install-webgpu.sh';
  const set = process.env.VK_ICD_FILENAMES;
  if (set) return set.split(':').every((f) => fs.existsSync(f)) ? null : `VK_ICD_FILENAMES names a missing file (${set})`;
  const icds = icdDirs.flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d).map((f) => path.join(d, f)) : []));
  const lavapipe = icds.find((f) => path.basename(f).startsWith('lvp_icd'));
  if (lavapipe) {
    process.env.VK_ICD_FILENAMES = lavapipe;
    return null;
  }
  return icds.length ? null : 'no Vulkan driver (ICD json) is installed; run scripts/ci-install-webgpu.sh';
}
