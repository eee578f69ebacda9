// Fetches the CUDA execution provider's libraries with onnxruntime-node's own
// installer. Opt-in because the download comes from outside the npm registry
// (see .npmrc); offered only on Linux/Windows x64 machines with an NVIDIA driver.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DeepenError } from '../../../shared/errors';
import type { JobContext } from './job-types';

export function cudaInstallable(): boolean {
  if (process.arch !== 'x64') return false;
  if (process.platform === 'linux') return fs.existsSync('/proc/driver/nvidia/version');
  if (process.platform === 'win32') return fs.existsSync(path.join(process.env.SystemRoot || 'C:\\Windows', 'System32', 'nvcuda.dll'));
  return false;
}

export async function runInstallCudaJob(_input: unknown, ctx: JobContext): Promise<{ installed: boolean }> {
  if (!cudaInstallable()) {
    throw new DeepenError('unsupported', 'No NVIDIA driver was found on this machine, so the CUDA provider cannot run here. Use the CPU or WebGPU provider.');
  }
  const require = createRequire(import.meta.url);
  const script = path.join(path.dirname(require.resolve('onnxruntime-node/package.json')), 'script', 'install.js');
  ctx.progress(0.05, 'Downloading the CUDA provider for ONNX Runtime');
  ctx.log(`Running ${script} with ONNXRUNTIME_NODE_INSTALL=cuda12`);
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      cwd: path.dirname(path.dirname(script)),
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'cuda12', ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const forward = (level: 'info' | 'warn') => (chunk: Buffer) => chunk.toString().split(/\r?\n/).filter(Boolean).forEach((l) => ctx.log(l, level));
    child.stdout.on('data', forward('info'));
    child.stderr.on('data', forward('warn'));
    const timer = setInterval(() => {
      if (ctx.isCancelled()) child.kill();
    }, 200);
    child.on('error', reject);
    child.on('exit', (c) => {
      clearInterval(timer);
      resolve(c ?? 1);
    });
  });
  ctx.throwIfCancelled();
  if (code !== 0) {
    throw new DeepenError('provider_failed', `The CUDA installer exited with code ${code}. See the job log; check the network connection and the NVIDIA driver, then try again.`);
  }
  ctx.progress(1, 'CUDA provider installed; restart Deepen to use it');
  return { installed: true };
}
