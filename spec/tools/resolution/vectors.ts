/** Shared by the vector generator and the tests: how a vector's `expect` paths are read. */

export interface ResolutionVector {
  comment: string;
  tags: string[];
  roots: string[];
  records: { id: string; record: unknown }[];
  /** JSON Pointer (RFC 6901) into `state` → expected value; null means absent. */
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

/** Reads a JSON Pointer (RFC 6901): `/conflicts/<id>~1unauthorised/rule`; undefined when a step is missing. */
export function lookupPointer(root: unknown, pointer: string): unknown {
  if (pointer === '') return root;
  if (!pointer.startsWith('/')) throw new Error(`not a JSON Pointer: ${pointer}`);
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur as object, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * The JSON Pointer of a dotted path (the scenarios' shorthand) in `root`: the
 * segments `lookup` would take, the rest of the path as one last key when it
 * names something absent.
 */
export function pointerOf(root: unknown, path: string): string {
  const segs = path.split('.');
  const keys: string[] = [];
  let cur: unknown = root;
  let i = 0;
  while (i < segs.length) {
    let found = false;
    if (cur !== null && typeof cur === 'object') {
      for (let j = segs.length; j > i; j--) {
        const key = segs.slice(i, j).join('.');
        if (Object.hasOwn(cur as object, key)) {
          keys.push(key);
          cur = (cur as Record<string, unknown>)[key];
          i = j;
          found = true;
          break;
        }
      }
    }
    if (!found) {
      keys.push(segs.slice(i).join('.'));
      break;
    }
  }
  return keys.map((k) => `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}
