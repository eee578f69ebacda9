// The renderer's build: the Vue app that the desktop window loads and that
// `deepen serve` serves in browser mode. electron.vite.config.ts uses it as
// its renderer section; on machines without the electron package (its
// download failed) `vite build --config renderer.vite.config.ts` builds it alone.
import vue from '@vitejs/plugin-vue';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type UserConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export const rendererConfig: UserConfig = {
  root: resolve(root, 'src/renderer'),
  base: './',
  resolve: { alias: { '@shared': resolve(root, 'src/shared') } },
  plugins: [vue()],
  build: {
    outDir: resolve(root, 'out/renderer'),
    emptyOutDir: true,
    minify: 'esbuild',
    rollupOptions: { input: resolve(root, 'src/renderer/index.html') },
  },
};

export default defineConfig(rendererConfig);
