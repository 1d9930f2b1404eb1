import { defineConfig } from 'vitest/config';

// The long reliability runs (issue 6): kept out of `pnpm test`, run by `pnpm test:reliability`.
export default defineConfig({
  resolve: { conditions: ['@shuniu/source'] },
  ssr: { resolve: { conditions: ['@shuniu/source'] } },
  test: {
    root: new URL('../../..', import.meta.url).pathname,
    include: ['test/reliability/long/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
