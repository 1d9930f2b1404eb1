// Structure-only JSON scanning: where the elements of a top-level array (or
// one member of a top-level object) begin and end, without building values.
// The element texts are then parsed strictly (I-JSON) in worker threads; a
// text that is not valid JSON is always re-read by the strict parser, which
// gives the exact error, so this scanner never decides validity by itself.

const isWs = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function ws(s: string, i: number, end: number): number {
  while (i < end && isWs(s.charCodeAt(i))) i++;
  return i;
}

/** Index just after the closing quote of the string opening at `i`, or -1. */
function skipString(s: string, i: number, end: number): number {
  let j = i + 1;
  for (;;) {
    const q = s.indexOf('"', j);
    if (q < 0 || q >= end) return -1;
    let b = 0;
    while (s.charCodeAt(q - 1 - b) === 0x5c) b++;
    if (b % 2 === 0) return q + 1;
    j = q + 1;
  }
}

/** Index just after the JSON value starting at `i` (scalars end at `,` `]` `}` or white space), or -1. */
export function skipValue(s: string, i: number, end = s.length): number {
  let depth = 0;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === 0x22) {
      i = skipString(s, i, end);
      if (i < 0) return -1;
      if (depth === 0) return i;
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) return i;
      if (--depth === 0) return i + 1;
    } else if (depth === 0 && (c === 0x2c || isWs(c))) return i;
    i++;
  }
  return depth === 0 ? end : -1;
}

/** Element spans of the array opening at `i` (after white space) and the index just after its `]`. */
function scanArray(s: string, i: number, end: number): { out: number[]; after: number } | undefined {
  i = ws(s, i, end);
  if (s.charCodeAt(i) !== 0x5b) return undefined;
  i = ws(s, i + 1, end);
  const out: number[] = [];
  if (s.charCodeAt(i) === 0x5d) return { out, after: i + 1 };
  for (;;) {
    const e = skipValue(s, i, end);
    if (e < 0) return undefined;
    out.push(i, e);
    i = ws(s, e, end);
    const c = s.charCodeAt(i);
    if (c === 0x2c) {
      i = ws(s, i + 1, end);
      continue;
    }
    if (c === 0x5d) return { out, after: i + 1 };
    return undefined;
  }
}

/**
 * Start/end offsets (pairs) of the elements of the array that is the whole of
 * `s[start..end)`, or undefined when it is not shaped as an array.
 */
export function arraySpans(s: string, start = 0, end = s.length): number[] | undefined {
  const a = scanArray(s, start, end);
  return a && ws(s, a.after, end) === end ? a.out : undefined;
}

/**
 * Offset where the value of member `name` of the object that is `s` starts,
 * walking the members before it; undefined when `s` is not shaped as an
 * object or has no such member.
 */
function memberStart(s: string, name: string): number | undefined {
  const end = s.length;
  let i = ws(s, 0, end);
  if (s.charCodeAt(i) !== 0x7b) return undefined;
  i = ws(s, i + 1, end);
  if (s.charCodeAt(i) === 0x7d) return undefined;
  for (;;) {
    if (s.charCodeAt(i) !== 0x22) return undefined;
    const k = skipString(s, i, end);
    if (k < 0) return undefined;
    let key: unknown;
    try {
      key = JSON.parse(s.slice(i, k));
    } catch {
      return undefined;
    }
    i = ws(s, k, end);
    if (s.charCodeAt(i) !== 0x3a) return undefined;
    const v = ws(s, i + 1, end);
    if (key === name) return v;
    const e = skipValue(s, v, end);
    if (e < 0) return undefined;
    i = ws(s, e, end);
    if (s.charCodeAt(i) !== 0x2c) return undefined;
    i = ws(s, i + 1, end);
  }
}

/** Start/end offsets of the value of member `name` of the object that is the whole of `s`, or undefined. */
export function memberSpan(s: string, name: string): [number, number] | undefined {
  const v = memberStart(s, name);
  if (v === undefined) return undefined;
  const e = skipValue(s, v, s.length);
  return e < 0 ? undefined : [v, e];
}

/**
 * arraySpans of the value of member `name` of the object that is `s`, in one
 * pass over it (memberSpan then arraySpans read the array twice); undefined
 * when there is no such member or it is not shaped as an array.
 */
export function memberArraySpans(s: string, name: string): number[] | undefined {
  const v = memberStart(s, name);
  if (v === undefined) return undefined;
  const end = s.length;
  const a = scanArray(s, v, end);
  if (!a) return undefined;
  const c = s.charCodeAt(ws(s, a.after, end));
  return c === 0x2c || c === 0x7d ? a.out : undefined;
}
