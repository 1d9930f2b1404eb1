import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The README's main job, as a newcomer runs it (`pnpm demo`), in its
 * self-checking form: five nodes on loopback play the story and the script
 * exits 0 only when every node shows the same state hash.
 */
describe('pnpm demo', () => {
  it('five Hubei nodes converge on one state hash and the foundation sees the need fulfilled', () => {
    const root = fileURLToPath(new URL('../', import.meta.url));
    const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [tsx, '--conditions=@shuniu/source', 'examples/network.ts', '--exit'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const hashes = [...r.stdout.matchAll(/^(\w+)\s+state (\S{43})$/gm)].map((m) => m[2]);
    expect(hashes).toHaveLength(5);
    expect(new Set(hashes).size).toBe(1);
    expect(r.stdout).toContain('"status":"fulfilled"');
    expect(r.stdout).toContain('conflicts: none');
  });
});
