import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through the
// "@shuniu/source" export condition, so tests never run against a stale dist.
export default defineConfig({
  resolve: { conditions: ['@shuniu/source'] },
  ssr: { resolve: { conditions: ['@shuniu/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'nodes/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/reliability/long/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
