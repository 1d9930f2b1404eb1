import { ed25519Sign, ed25519Verify } from '@shuniu/protocol';

/**
 * What a node takes from its surroundings: the network (a fetch-like
 * transport), the wall clock, timers and a source of randomness. A running
 * node uses the real ones; the deterministic network simulator (test/sim)
 * passes its own, so that a seed replays a whole run exactly.
 */

/** The one call the federation makes to reach a peer: fetch's shape, narrowed to what it sends. */
export type Transport = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal }) => Promise<Response>;

/** A timer handle as returned by `Timers.setTimeout` (Node's Timeout, or the simulator's). */
export type TimerHandle = unknown;

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

export interface Runtime {
  transport: Transport;
  /** Milliseconds since the epoch. */
  now: () => number;
  timers: Timers;
  /** Uniform in [0, 1). */
  random: () => number;
  /**
   * The Ed25519 check of record signatures verified on the main thread (libsodium's, strict).
   * The simulator, which runs many nodes checking the same records in one process, passes a
   * memo of it: the same bytes get the same answer.
   */
  verify: (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;
  /**
   * The Ed25519 signature of a peer request (spec/node.md §9.4; libsodium's, deterministic); the
   * receiving node checks it with `verify`. The simulator passes one that gives the same bytes and
   * lets its `verify` memo know them, so a request signed in the process is not checked again.
   */
  sign: (message: Uint8Array, secretKey: Uint8Array) => Uint8Array;
}

/** The real surroundings: `fetch`, `Date.now`, Node's timers, `Math.random`. */
export const REAL_RUNTIME: Runtime = {
  transport: (url, init) => fetch(url, init),
  now: () => Date.now(),
  timers: {
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout | undefined),
  },
  random: () => Math.random(),
  verify: ed25519Verify,
  sign: ed25519Sign,
};

/** The real runtime with the given parts replaced. */
export function runtimeOf(parts: Partial<Runtime> = {}): Runtime {
  return { ...REAL_RUNTIME, ...parts };
}

/** Lets a real timer not keep the process alive (a simulated one has no such notion). */
export function unrefTimer(h: TimerHandle): void {
  (h as { unref?: () => void } | undefined)?.unref?.();
}
