import { runInNewContext } from 'node:vm';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/**
 * The protocol and resolver packages must run in a browser (the console, other
 * tools). Bundle each for `platform: 'browser'` and run the bundle in a bare
 * V8 context that has only what a browser page has — no `process`, no
 * `require`, no Buffer — then sign and verify a record inside it.
 */
async function bundle(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [entry],
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
    `globalThis.TextEncoder = class { encode(s = '') { return new Uint8Array(hostEncode(s)); } };
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
});
