import { defineConfig } from 'vite';

/**
 * The console is a static bundle the node serves at `/` (nodes/hub/src/http/routes/console.ts).
 * Workspace packages are bundled from their TypeScript sources (the
 * "@shuniu/source" export condition), so the browser runs the very schemas
 * the node validates with. `vite` (dev server) proxies the API to a node on
 * SHUNIU_NODE (default http://127.0.0.1:7420).
 */
export default defineConfig({
  base: './',
  resolve: { conditions: ['@shuniu/source', 'browser', 'module', 'import', 'default'] },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 900 },
  server: {
    proxy: Object.fromEntries(['/v1', '/.well-known'].map((p) => [p, { target: process.env.SHUNIU_NODE ?? 'http://127.0.0.1:7420', changeOrigin: false }])),
  },
});
