import { runInNewContext } from 'node:vm';
import { MemoryChains, ready, type SignedRecord } from '@shuniu/protocol';
import { Resolver } from '@shuniu/resolve';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/**
 * The protocol and resolver packages must run in a browser (the console, other
 * tools). Bundle them for `platform: 'browser'` and run the bundle in a bare
 * V8 context that has only what a browser page has — no `process`, no
 * `require`, no Buffer — then sign and verify records inside it, and resolve
 * them there to the state hash Node computes from the same records.
 */
async function bundle(entry: string | { contents: string }): Promise<string> {
  const out = await build({
    ...(typeof entry === 'string' ? { entryPoints: [entry] } : { stdin: { contents: entry.contents, resolveDir: process.cwd(), loader: 'ts' as const } }),
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'lib',
    write: false,
    conditions: ['@shuniu/source'],
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

function browserLikeContext(): Record<string, unknown> {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const ctx: Record<string, unknown> = {
    hostEncode: (s: string) => Array.from(encoder.encode(s)),
    hostDecode: (a: ArrayLike<number>) => decoder.decode(Uint8Array.from(a)),
    WebAssembly: (globalThis as Record<string, unknown>).WebAssembly,
    crypto: { getRandomValues: (a: Uint8Array) => globalThis.crypto.getRandomValues(a) },
    console,
    setTimeout,
    clearTimeout,
    queueMicrotask,
    Promise,
    URL,
    atob,
    btoa,
  };
  // Typed arrays must belong to the page's own realm, as in a browser, so the
  // encoders are defined inside it around the host's.
  runInNewContext(
    `globalThis.TextEncoder = class {
       encode(s = '') { return new Uint8Array(hostEncode(s)); }
       encodeInto(s, dest) {
         const b = hostEncode(s);
         if (b.length > dest.length) throw new RangeError('encodeInto: destination too small in this test context');
         dest.set(b);
         return { read: s.length, written: b.length };
       }
     };
     globalThis.TextDecoder = class { constructor() {} decode(a) { return hostDecode(a ?? []); } };`,
    ctx,
  );
  return ctx;
}

describe('browser bundles', () => {
  it('@shuniu/protocol bundles for the browser and signs and verifies with no Node globals', async () => {
    const code = await bundle('packages/protocol/src/index.ts');
    expect(code).not.toMatch(/require\(["']node:/);
    const ctx = browserLikeContext();
    runInNewContext(`${code}\nglobalThis.lib = lib;`, ctx);
    expect(runInNewContext('typeof process + typeof require + typeof Buffer', ctx)).toBe('undefinedundefinedundefined');
    const result = await runInNewContext(
      `(async () => {
        await lib.ready();
        const hub = lib.createHub({ created: '2020-01-24T08:00:00Z', hlc: { ms: 1579852800000, c: 0 } });
        const chains = new lib.MemoryChains();
        const first = chains.add(hub.inception).kind;
        const forged = chains.add({ ...hub.inception, hub: hub.inception.hub.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) });
        return [first, forged.kind, forged.error && forged.error.code];
      })()`,
      ctx,
    );
    expect(result).toEqual(['valid', 'invalid', 'E_HUB_ID']);
  });

  it('@shuniu/resolve bundles for the browser and computes the same state hash as Node from the same records', async () => {
    const code = await bundle({
      contents: "export * from './packages/protocol/src/index.ts'; export { Resolver } from './packages/resolve/src/index.ts';",
    });
    expect(code).not.toMatch(/require\(["']node:/);
    const ctx = browserLikeContext();
    runInNewContext(`${code}\nglobalThis.lib = lib;`, ctx);
    // In the page: a root hub, a county it admits, a need; verified and resolved there.
    const out = (await runInNewContext(
      `(async () => {
        await lib.ready();
        let t = 1579852800000;
        const root = lib.createHub({ created: '2020-01-24T08:00:00Z', hlc: { ms: t, c: 0 } });
        const county = lib.createHub({ created: '2020-01-24T08:00:00Z', hlc: { ms: t, c: 1 } });
        const rootAuthor = lib.Author.fromNewHub(root, () => ++t);
        const countyAuthor = lib.Author.fromNewHub(county, () => ++t);
        const records = [root.inception, county.inception];
        records.push(rootAuthor.sign('hub.admitted', { child: county.id, level: 'county', region: '420902' }).record);
        records.push(countyAuthor.sign('need.posted', {
          item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' }, quantity: 1000, unit: { name: 'piece', base: 'piece', size: 1 },
          urgency: 'critical', neededBy: '2020-01-30T00:00:00Z', region: '420902',
          beneficiaries: { group: 'medical_staff', count: 300 }, requester: { name: '孝南区人民医院', kind: 'hospital', region: '420902' },
        }).record);
        const chains = new lib.MemoryChains();
        const r = new lib.Resolver({ roots: [root.id] });
        for (const rec of records) { const v = chains.add(rec); if (v.kind !== 'valid') throw new Error(v.kind); r.apply(v.verified); }
        return JSON.stringify({ root: root.id, records, hash: r.stateHash(), needs: Object.keys(r.state().needs).length });
      })()`,
      ctx,
    )) as string;
    const page = JSON.parse(out) as { root: string; records: SignedRecord[]; hash: string; needs: number };
    expect(page.needs).toBe(1);
    // In Node, from the same records: the same state hash.
    await ready();
    const chains = new MemoryChains();
    const node = new Resolver({ roots: [page.root] });
    for (const rec of page.records) {
      const v = chains.add(rec);
      if (v.kind !== 'valid') throw new Error(v.kind);
      node.apply(v.verified);
    }
    expect(node.stateHash()).toBe(page.hash);
  });
});
