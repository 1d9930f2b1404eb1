/** Shared by the vector generator and the tests: how a vector's `expect` paths are read. */

export interface ResolutionVector {
  comment: string;
  tags: string[];
  roots: string[];
  records: { id: string; record: unknown }[];
  /** Path (segments joined by '.'; keys may themselves hold dots) → expected value; null means absent. */
  expect: Record<string, unknown>;
  stateHash: string;
  state: unknown;
}

/** Reads a dotted path, matching the longest key at each step, since item codes and conflict ids hold dots. */
export function lookup(root: unknown, path: string): unknown {
  const segs = path.split('.');
  let cur: unknown = root;
  let i = 0;
  while (i < segs.length) {
    if (cur === null || typeof cur !== 'object') return undefined;
    let found = false;
    for (let j = segs.length; j > i; j--) {
      const key = segs.slice(i, j).join('.');
      if (Object.hasOwn(cur as object, key)) {
        cur = (cur as Record<string, unknown>)[key];
        i = j;
        found = true;
        break;
      }
    }
    if (!found) return undefined;
  }
  return cur;
}
