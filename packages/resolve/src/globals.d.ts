// lib ES2022 only (no Node or DOM types): the WHATWG encoder exists in every
// supported runtime (browsers, Node, Deno, Bun), as in @shuniu/protocol.
declare class TextEncoder {
  encodeInto(input: string, dest: Uint8Array): { read: number; written: number };
}
