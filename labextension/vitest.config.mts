import { defineConfig } from 'vitest/config';

// JupyterLab packages are ES modules that import .svg and .css files; run them through Vite
// (inline) instead of Node so those imports resolve, and load .svg files as text.
export default defineConfig({
  plugins: [
    {
      name: 'svg-as-text',
      enforce: 'pre',
      load(id: string) {
        return id.endsWith('.svg') ? 'export default "<svg></svg>";' : null;
      }
    }
  ],
  test: {
    environment: 'jsdom',
    setupFiles: ['src/__tests__/setup.ts'],
    include: ['src/__tests__/**/*.spec.ts'],
    server: { deps: { inline: [/@jupyterlab\//, /@jupyter\//, /@lumino\//] } },
    css: false,
    // One worker, one module graph: loading JupyterLab's modules dominates the run time.
    isolate: false,
    fileParallelism: false
  }
});
