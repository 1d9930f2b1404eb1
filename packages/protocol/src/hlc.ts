import { type Hlc, TIMESTAMP_PATTERN } from './schemas.js';

/** Orders two hybrid logical clock values: by milliseconds, then counter. */
export function compareHlc(a: Hlc, b: Hlc): number {
  return a.ms !== b.ms ? (a.ms < b.ms ? -1 : 1) : a.c - b.c;
}

/**
 * Hybrid logical clock (Kulkarni et al. 2014): stays close to wall time but
 * never goes backwards, and moves past every timestamp it has observed, so a
 * record always carries a later hlc than anything its author had seen.
 *
 * @example const clock = new HybridClock(); clock.observe(remote.hlc); clock.next(Date.now())
 */
export class HybridClock {
  last: Hlc;
  constructor(last: Hlc = { ms: 0, c: 0 }) {
    this.last = { ...last };
  }

  /** The next timestamp for a local event at wall time `wallMs`. */
  next(wallMs: number): Hlc {
    const ms = Math.max(Math.floor(wallMs), this.last.ms);
    let next: Hlc = ms > this.last.ms ? { ms, c: 0 } : { ms, c: this.last.c + 1 };
    if (next.c > 65535) next = { ms: ms + 1, c: 0 };
    this.last = next;
    return next;
  }

  /** Moves the clock past a timestamp received from elsewhere. */
  observe(remote: Hlc): void {
    if (compareHlc(remote, this.last) > 0) this.last = { ...remote };
  }
}

/**
 * Milliseconds since the epoch of an RFC 3339 UTC timestamp (schemas.timestamp);
 * NaN for anything else, a date that does not exist included (Date.parse would
 * read 2020-02-31 as 2 March; spec/encoding.md §5.4).
 */
export function timestampMs(ts: string): number {
  return TIMESTAMP_PATTERN.test(ts) ? Date.parse(ts) : Number.NaN;
}

/** RFC 3339 UTC timestamp, second precision when the milliseconds are zero. */
export function formatTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}
