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

/** The claims of one division as columns (the engine's form: no object per claim). */
export interface ClaimColumns {
  quantity: ArrayLike<number>;
  covered: ArrayLike<number>;
  cap: ArrayLike<number>;
  lot: ArrayLike<number>;
}

/**
 * Indices 0..n-1 ordered by `cmp` (descending keys if `desc`), where
 * `key[i]` in [0, 1] is a double that orders the items as `cmp` does
 * wherever the keys differ (a correctly rounded quotient of safe integers is
 * monotonic). Each key is cut to its first bits and packed with its index
 * into one double, sorted natively; runs that share the cut key are settled
 * with the exact comparison. Stable.
 */
function sortByKey(key: Float64Array, n: number, cmp: (a: number, b: number) => number, desc = false): Int32Array {
  let ib = 1;
  while (2 ** ib <= n) ib++;
  const qb = 52 - ib;
  const out = new Int32Array(n);
  let inRange = true;
  for (let i = 0; i < n; i++) if (!((key[i] as number) >= 0 && (key[i] as number) <= 1)) inRange = false;
  if (qb < 20 || !inRange) {
    out.set(Array.from({ length: n }, (_, i) => i).sort(cmp));
    return out;
  }
  const scale = 2 ** qb;
  const span = 2 ** ib;
  const packed = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const q = Math.floor((key[i] as number) * scale);
    packed[i] = (desc ? scale - q : q) * span + i;
  }
  packed.sort();
  const cut = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const v = packed[k] as number;
    const i = v % span;
    out[k] = i;
    cut[k] = (v - i) / span;
  }
  // Equal cut keys may hide distinct exact values: settle such runs with the exact comparison.
  for (let s = 0; s < n; ) {
    let e = s + 1;
    while (e < n && cut[e] === cut[s]) e++;
    if (e - s > 1) {
      let mixed = false;
      for (let k = s + 1; k < e && !mixed; k++) if (cmp(out[k - 1] as number, out[k] as number) > 0) mixed = true;
      if (mixed) out.set(Array.from(out.subarray(s, e)).sort(cmp), s);
    }
    s = e;
  }
  return out;
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
  return divide(
    {
      quantity: claims.map((c) => c.quantity),
      covered: claims.map((c) => c.covered),
      cap: claims.map((c) => c.cap),
      lot: claims.map((c) => c.lot),
    },
    claims.length,
    supply,
  );
}

/** waterfill() on claims given as columns (the first `n` of each). */
export function divide(cl: ClaimColumns, n: number, supply: number): Division {
  const Q = cl.quantity;
  const Cv = cl.covered;
  const Cap = cl.cap;
  const Lot = cl.lot;
  const amounts = new Array<number>(n).fill(0);
  const capped = new Array<boolean>(n).fill(false);
  const bonus = new Array<boolean>(n).fill(false);
  let totalCap = 0;
  for (let i = 0; i < n; i++) totalCap += Cap[i] as number;
  if (totalCap > MAX) throw new RangeError('match: total demand beyond 2^53');
  if (totalCap <= supply) {
    for (let i = 0; i < n; i++) {
      amounts[i] = Cap[i] as number;
      capped[i] = (Cap[i] as number) > 0;
    }
    return { amounts, capped, bonus, level: undefined };
  }
  if (supply <= 0) return { amounts, capped, bonus, level: 0 };

  // Events: claim i starts filling at covered/quantity and is full at (covered + cap)/quantity.
  let m = 0;
  for (let i = 0; i < n; i++) if ((Cap[i] as number) > 0) m += 2;
  const evNum = new Array<number>(m);
  const evDen = new Array<number>(m);
  const evClaim = new Int32Array(m);
  const evStart = new Uint8Array(m);
  const evKey = new Float64Array(m);
  let safe = true;
  for (let i = 0, e = 0; i < n; i++) {
    const c = Cap[i] as number;
    if (c <= 0) continue;
    const q = Q[i] as number;
    const cov = Cv[i] as number;
    evNum[e] = cov;
    evDen[e] = q;
    evClaim[e] = i;
    evStart[e] = 1;
    evKey[e] = cov / q;
    e++;
    evNum[e] = cov + c;
    evDen[e] = q;
    evClaim[e] = i;
    evKey[e] = (cov + c) / q;
    e++;
    if (!(cov + c <= MAX && q <= MAX)) safe = false;
  }
  const cmpEv = (a: number, b: number) =>
    cmpProd(evNum[a] as number, evDen[b] as number, evNum[b] as number, evDen[a] as number) || (evClaim[a] as number) - (evClaim[b] as number);
  const order = safe ? sortByKey(evKey, m, cmpEv) : Int32Array.from(Array.from({ length: m }, (_, k) => k).sort(cmpEv));

  // f(t) = slope·t − intercept + filled is the amount given at level t; find the segment where it reaches the supply.
  let slope = 0;
  let intercept = 0;
  let filled = 0;
  let k = 0;
  while (k < m) {
    const e = order[k] as number;
    const eNum = evNum[e] as number;
    const eDen = evDen[e] as number;
    // f(e) >= supply  <=>  slope·num >= (supply − filled + intercept)·den
    if (slope > 0 && cmpProd(slope, eNum, supply - filled + intercept, eDen) >= 0) break;
    let j = k;
    while (j < m) {
      const f = order[j] as number;
      if (cmpProd(evNum[f] as number, eDen, eNum, evDen[f] as number) !== 0) break;
      const ci = evClaim[f] as number;
      if (evStart[f] === 1) {
        slope += Q[ci] as number;
        intercept += Cv[ci] as number;
      } else {
        slope -= Q[ci] as number;
        intercept -= Cv[ci] as number;
        filled += Cap[ci] as number;
      }
      j++;
    }
    k = j;
  }
  // The level t* = N / D.
  const N = supply - filled + intercept;
  const D = slope;
  const active: number[] = [];
  const remNum: number[] = [];
  let remBig: bigint[] | undefined;
  let given = 0;
  for (let i = 0; i < n; i++) {
    const q = Q[i] as number;
    const cov = Cv[i] as number;
    const cap = Cap[i] as number;
    const lot = Lot[i] as number;
    if (cap <= 0) continue;
    if (cmpProd(cov, D, N, q) >= 0) continue;
    if (cmpProd(cov + cap, D, N, q) <= 0) {
      amounts[i] = cap;
      capped[i] = true;
      given += cap;
      continue;
    }
    // x = (N·q − c·D) / D, in lots: floor(x / lot) with remainder over D·lot; plain numbers while exact.
    const a = N * q;
    const b = cov * D;
    const per = D * lot;
    if (remBig === undefined && a <= HALF && b <= HALF && per <= HALF) {
      const num = a - b;
      let lots = Math.floor(num / per);
      let rem = num - lots * per;
      // The float quotient may round up across an integer; correct it exactly.
      if (rem < 0) {
        lots--;
        rem += per;
      }
      amounts[i] = lots * lot;
      remNum.push(rem);
    } else {
      if (remBig === undefined) remBig = remNum.map((r) => BigInt(r));
      let rem: bigint;
      if (a <= HALF && b <= HALF && per <= HALF) {
        const num = a - b;
        let lots = Math.floor(num / per);
        let r = num - lots * per;
        if (r < 0) {
          lots--;
          r += per;
        }
        amounts[i] = lots * lot;
        rem = BigInt(r);
      } else {
        const num = BigInt(N) * BigInt(q) - BigInt(cov) * BigInt(D);
        const perB = BigInt(D) * BigInt(lot);
        const lots = num / perB;
        amounts[i] = Number(lots) * lot;
        rem = num - lots * perB;
      }
      remBig.push(rem);
    }
    given += amounts[i] as number;
    active.push(i);
  }
  // Largest remainder: compare rem_a / (D·lot_a) with rem_b / (D·lot_b); ties keep priority order.
  const na = active.length;
  const lotOf = (idx: number) => Lot[active[idx] as number] as number;
  let byRem: ArrayLike<number>;
  if (remBig === undefined) {
    const rems = remNum;
    const cmpRem = (a: number, b: number) => cmpProd(rems[b] as number, lotOf(a), rems[a] as number, lotOf(b)) || a - b;
    // rem ≤ D·lot ≤ 2^52 here, so rem / (D·lot) is a correctly rounded quotient of safe integers.
    const key = new Float64Array(na);
    for (let idx = 0; idx < na; idx++) key[idx] = (rems[idx] as number) / (D * lotOf(idx));
    byRem = sortByKey(key, na, cmpRem, true);
  } else {
    const rems = remBig;
    byRem = Array.from({ length: na }, (_, idx) => idx).sort((a, b) => {
      const ra = (rems[a] as bigint) * BigInt(lotOf(b));
      const rb = (rems[b] as bigint) * BigInt(lotOf(a));
      return ra > rb ? -1 : ra < rb ? 1 : a - b;
    });
  }
  let left = supply - given;
  for (let k2 = 0; k2 < na; k2++) {
    const idx = byRem[k2] as number;
    if (remBig === undefined ? remNum[idx] === 0 : (remBig[idx] as bigint) === 0n) break;
    const i = active[idx] as number;
    const lot = Lot[i] as number;
    if (lot > left) continue;
    amounts[i] = (amounts[i] as number) + lot;
    bonus[i] = true;
    left -= lot;
    if (left === 0) break;
  }
  return { amounts, capped, bonus, level: N / D };
}
