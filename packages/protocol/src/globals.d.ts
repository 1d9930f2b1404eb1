// The protocol package targets both browsers and Node with lib ES2022 only, so
// that no Node-only (or DOM-only) API can creep in. These two encoders exist in
// every supported runtime (WHATWG Encoding Standard).
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}
