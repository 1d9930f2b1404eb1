import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { run as init } from '../src/commands/init.js';
import { HubNode, initDataDir } from '../src/node.js';
import { needBody, tempDir } from './helpers.js';

const dirs: (() => void)[] = [];
afterAll(() => {
  for (const c of dirs) c();
});

/** Mode of every entry of `dir` (recursively), and of `dir` itself under ".". */
function modes(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = prefix === '' ? { '.': (statSync(dir).mode & 0o777).toString(8) } : {};
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    out[prefix + name] = (st.mode & 0o777).toString(8);
    if (st.isDirectory()) Object.assign(out, modes(path, `${prefix}${name}/`));
  }
  return out;
}

describe('data directory modes (spec/node.md §11, issue 10 point 8)', () => {
  it('init into an existing 0755 directory with a 0644 file, start and a write: directory 0700, every file 0600', async () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'notes.txt'), 'left here before\n', { mode: 0o644 });
    chmodSync(join(dir, 'notes.txt'), 0o644);
    mkdirSync(join(dir, 'old'), { mode: 0o755 });
    writeFileSync(join(dir, 'old', 'hub.db.bak'), 'x', { mode: 0o644 });
    chmodSync(join(dir, 'old', 'hub.db.bak'), 0o644);
    await initDataDir({ dir, name: '孝南区枢纽', level: 'county', region: '420902', port: 0 });
    const node = await HubNode.open(dir, { log: () => {}, threads: 0, overrides: { port: 0, federation: { pullIntervalMs: 0 } } });
    try {
      const { ack } = await node.publisher.publish('need.posted', needBody());
      expect(ack.status).toBe('accepted');
      const m = modes(dir);
      // The database is open and written: its WAL and shared-memory files exist.
      expect(Object.keys(m)).toEqual(expect.arrayContaining(['hub.key.json', 'config.json', 'hub.db', 'hub.db-wal', 'hub.db-shm', 'notes.txt']));
      expect(m).toEqual(Object.fromEntries(Object.keys(m).map((k) => [k, k === '.' || k === 'old' ? '700' : '600'])));
    } finally {
      await node.close();
    }
  });

  it('a start closes a directory an older version or a copy left open', async () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    await initDataDir({ dir, name: '孝南区枢纽', level: 'county', region: '420902', port: 0 });
    chmodSync(dir, 0o755);
    for (const f of ['config.json', 'hub.db', 'hub.key.json']) chmodSync(join(dir, f), 0o644);
    const node = await HubNode.open(dir, { log: () => {}, threads: 0, overrides: { port: 0, federation: { pullIntervalMs: 0 } } });
    try {
      await node.publisher.publish('need.posted', needBody());
      const m = modes(dir);
      expect(m).toEqual(Object.fromEntries(Object.keys(m).map((k) => [k, k === '.' ? '700' : '600'])));
    } finally {
      await node.close();
    }
  });
});

describe('shuniu init: the recovery key apart, to be moved offline (spec/node.md §11, issue 10 point 7)', () => {
  it('writes recovery.key.json (0600) beside a hub.key.json without recoverySeed, and says where it is and what to do with it', async () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const out: string[] = [];
    const err: string[] = [];
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => out.push(String(s)) > 0);
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => err.push(String(s)) > 0);
    try {
      expect(await init(['--dir', dir, '--name', '孝南区枢纽', '--level', 'county', '--region', '420902', '--port', '0'])).toBe(0);
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
    const keyFile = JSON.parse(readFileSync(join(dir, 'hub.key.json'), 'utf8'));
    const recovery = JSON.parse(readFileSync(join(dir, 'recovery.key.json'), 'utf8'));
    expect(Object.keys(keyFile).sort()).toEqual(['created', 'encryptionSeed', 'hub', 'signingSeed']);
    expect(Object.keys(recovery).sort()).toEqual(['created', 'hub', 'recoveryCommitment', 'recoverySeed']);
    expect(recovery.hub).toBe(keyFile.hub);
    expect(statSync(join(dir, 'recovery.key.json')).mode & 0o777).toBe(0o600);
    expect(out.join('')).toBe(`${keyFile.hub}\n`);
    const text = err.join('');
    expect(text).toContain(`RECOVERY KEY: ${join(dir, 'recovery.key.json')}`);
    expect(text).toMatch(/offline/);
    expect(text).toContain(`shred -u ${join(dir, 'recovery.key.json')}`);
    // The node runs without it, and says so while it is still there.
    const logs: string[] = [];
    const node = await HubNode.open(dir, { log: (m) => logs.push(m), threads: 0, overrides: { port: 0, federation: { pullIntervalMs: 0 } } });
    try {
      expect(logs.join('\n')).toMatch(/recovery\.key\.json is still on this server: move it offline/);
    } finally {
      await node.close();
    }
  });

  it('a hub.key.json from before (with recoverySeed) still runs, and every start says to take the seed offline', async () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    await initDataDir({ dir, name: '孝南区枢纽', level: 'county', region: '420902', port: 0 });
    const recovery = JSON.parse(readFileSync(join(dir, 'recovery.key.json'), 'utf8'));
    const keyFile = JSON.parse(readFileSync(join(dir, 'hub.key.json'), 'utf8'));
    writeFileSync(join(dir, 'hub.key.json'), JSON.stringify({ ...keyFile, recoverySeed: recovery.recoverySeed }));
    rmSync(join(dir, 'recovery.key.json'));
    const logs: string[] = [];
    const node = await HubNode.open(dir, { log: (m) => logs.push(m), threads: 0, overrides: { port: 0, federation: { pullIntervalMs: 0 } } });
    try {
      expect((await node.publisher.publish('need.posted', needBody())).ack.status).toBe('accepted');
      expect(logs.join('\n')).toMatch(/hub\.key\.json holds recoverySeed/);
    } finally {
      await node.close();
    }
  });
});
