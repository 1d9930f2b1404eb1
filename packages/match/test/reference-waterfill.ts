// The fair division as it was before its sorts were made fast (issue 11 point 5): the reference for the differential test.
/**
 * Max-min fair division of a supply over claims, by the share of each claim
 * covered, in exact integer arithmetic (spec/matching.md §Fair share).
 */

/** All amounts in one common unit; `cap` is a multiple of `lot`; `quantity` > 0. */
export interface Claim {
  /** The claim's full size: shares are covered / quantity. */
  quantity: number;
  /** Already covered before this division. */
  covered: number;
  /** The most this division may give. */
  cap: number;
  /** Amounts given are whole multiples of this. */
  lot: number;
}

export interface Division {
  amounts: number[];
  /** The claim received its cap. */
  capped: boolean[];
  /** The claim received one more lot from the largest-remainder step. */
  bonus: boolean[];
  /** The water level (share every uncapped claim was raised to), or undefined when every claim got its cap. */
  level: number | undefined;
}

const MAX = Number.MAX_SAFE_INTEGER;
const HALF = Math.floor(MAX / 2);

/** Compares a×b with c×d exactly (non-negative safe integers). */
function cmpProd(a: number, b: number, c: number, d: number): number {
  const x = a * b;
  const y = c * d;
  if (x <= MAX && y <= MAX) return x < y ? -1 : x > y ? 1 : 0;
  const X = BigInt(a) * BigInt(b);
  const Y = BigInt(c) * BigInt(d);
  return X < Y ? -1 : X > Y ? 1 : 0;
}

interface Event {
  /** Share at which the event happens: num / den. */
  num: number;
  den: number;
  claim: number;
  start: boolean;
}

/**
 * Divides `supply` over `claims`, which must come in priority order (that
 * order breaks ties between equal remainders). Every claim i gets
 * min(cap_i, max(0, t·quantity_i − covered_i)) for the one level t that spends
 * the supply, rounded down to whole lots, then the lots left over go one each
 * to the largest remainders. The sum never exceeds the supply and equals it
 * when all lots are 1 and the caps add up to at least the supply.
 *
 * @example waterfill([{ quantity: 100, covered: 0, cap: 100, lot: 1 }, { quantity: 100, covered: 50, cap: 50, lot: 1 }], 60).amounts // [55, 5]
 */
export function waterfill(claims: readonly Claim[], supply: number): Division {
  const n = claims.length;
  const amounts = new Array<number>(n).fill(0);
  const capped = new Array<boolean>(n).fill(false);
  const bonus = new Array<boolean>(n).fill(false);
  let totalCap = 0;
  for (const c of claims) totalCap += c.cap;
  if (totalCap > MAX) throw new RangeError('match: total demand beyond 2^53');
  if (totalCap <= supply) {
    for (let i = 0; i < n; i++) {
      amounts[i] = (claims[i] as Claim).cap;
      capped[i] = (claims[i] as Claim).cap > 0;
    }
    return { amounts, capped, bonus, level: undefined };
  }
  if (supply <= 0) return { amounts, capped, bonus, level: 0 };

  const events: Event[] = [];
  for (let i = 0; i < n; i++) {
    const c = claims[i] as Claim;
    if (c.cap <= 0) continue;
    events.push({ num: c.covered, den: c.quantity, claim: i, start: true });
    events.push({ num: c.covered + c.cap, den: c.quantity, claim: i, start: false });
  }
  events.sort((a, b) => cmpProd(a.num, b.den, b.num, a.den) || a.claim - b.claim);

  // f(t) = slope·t − intercept + filled is the amount given at level t; find the segment where it reaches the supply.
  let slope = 0;
  let intercept = 0;
  let filled = 0;
  let k = 0;
  while (k < events.length) {
    const e = events[k] as Event;
    // f(e) >= supply  <=>  slope·num >= (supply − filled + intercept)·den
    if (slope > 0 && cmpProd(slope, e.num, supply - filled + intercept, e.den) >= 0) break;
    let j = k;
    while (j < events.length && cmpProd((events[j] as Event).num, e.den, e.num, (events[j] as Event).den) === 0) {
      const ev = events[j] as Event;
      const c = claims[ev.claim] as Claim;
      if (ev.start) {
        slope += c.quantity;
        intercept += c.covered;
      } else {
        slope -= c.quantity;
        intercept -= c.covered;
        filled += c.cap;
      }
      j++;
    }
    k = j;
  }
  // The level t* = N / D.
  const N = supply - filled + intercept;
  const D = slope;
  const active: number[] = [];
  const rems: bigint[] = [];
  let given = 0;
  for (let i = 0; i < n; i++) {
    const c = claims[i] as Claim;
    if (c.cap <= 0) continue;
    if (cmpProd(c.covered, D, N, c.quantity) >= 0) continue;
    if (cmpProd(c.covered + c.cap, D, N, c.quantity) <= 0) {
      amounts[i] = c.cap;
      capped[i] = true;
      given += c.cap;
      continue;
    }
    // x = (N·q − c·D) / D, in lots: floor(x / lot) with remainder over D·lot; plain numbers while exact.
    const a = N * c.quantity;
    const b = c.covered * D;
    const per = D * c.lot;
    if (a <= HALF && b <= HALF && per <= HALF) {
      const num = a - b;
      let lots = Math.floor(num / per);
      let rem = num - lots * per;
      // The float quotient may round up across an integer; correct it exactly.
      if (rem < 0) {
        lots--;
        rem += per;
      }
      amounts[i] = lots * c.lot;
      rems.push(BigInt(rem));
    } else {
      const num = BigInt(N) * BigInt(c.quantity) - BigInt(c.covered) * BigInt(D);
      const perB = BigInt(D) * BigInt(c.lot);
      const lots = num / perB;
      amounts[i] = Number(lots) * c.lot;
      rems.push(num - lots * perB);
    }
    given += amounts[i] as number;
    active.push(i);
  }
  // Largest remainder: compare rem_a / (D·lot_a) with rem_b / (D·lot_b); ties keep priority order.
  const order = active.map((_, idx) => idx);
  order.sort((a, b) => {
    const ra = (rems[a] as bigint) * BigInt((claims[active[b] as number] as Claim).lot);
    const rb = (rems[b] as bigint) * BigInt((claims[active[a] as number] as Claim).lot);
    return ra > rb ? -1 : ra < rb ? 1 : a - b;
  });
  let left = supply - given;
  for (const idx of order) {
    if ((rems[idx] as bigint) === 0n) break;
    const i = active[idx] as number;
    const lot = (claims[i] as Claim).lot;
    if (lot > left) continue;
    amounts[i] = (amounts[i] as number) + lot;
    bonus[i] = true;
    left -= lot;
    if (left === 0) break;
  }
  return { amounts, capped, bonus, level: N / D };
}
