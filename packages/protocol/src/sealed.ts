import { type KeyPair, openSealed, randomBytes, sealTo, sealToWithEphemeralSeed, secretboxOpen, secretboxSeal } from './crypto.js';
import { fromBase64url, fromUtf8, toBase64url, utf8 } from './encoding.js';
import { ShuniuError } from './errors.js';
import { assertIJson, type JsonValue, jcs, parseIJson } from './ijson.js';
import { digest } from './record.js';
import type { Sealed, SignedRecord } from './schemas.js';

/**
 * Encrypts personal data (names, phone numbers, addresses) so that only the
 * named hubs can read it (spec/records.md §Sealed part). The payload is
 * encrypted once with a random key (XSalsa20-Poly1305); that key is sealed to
 * each recipient's X25519 key (libsodium sealed box). The record signs only
 * `sealedHash`, so the part can later be erased and the record still verifies.
 *
 * @example const { sealed, sealedHash } = seal({ phone: '138…' }, [{ hub, encryptionKey }])
 */
export function seal(payload: JsonValue, recipients: { hub: string; encryptionKey: string }[], opts: SealOptions = {}): { sealed: Sealed; sealedHash: string } {
  assertIJson(payload);
  if (recipients.length === 0) throw new ShuniuError('E_ARGUMENT', 'a sealed part needs at least one recipient');
  const rand = opts.randomBytes;
  const key = rand ? exactly(rand(32), 32) : randomBytes(32);
  const nonce = rand ? exactly(rand(24), 24) : randomBytes(24);
  const ct = secretboxSeal(utf8(jcs(payload)), nonce, key);
  const sealed: Sealed = {
    alg: 'x25519-xsalsa20poly1305',
    nonce: toBase64url(nonce),
    ct: toBase64url(ct),
    to: recipients.map((r) => {
      const pk = fromBase64url(r.encryptionKey);
      return { hub: r.hub, key: toBase64url(rand ? sealToWithEphemeralSeed(key, pk, exactly(rand(32), 32)) : sealTo(key, pk)) };
    }),
  };
  return { sealed, sealedHash: sealedHashOf(sealed) };
}

export interface SealOptions {
  /**
   * Replaces the CSPRNG, for reproducible test vectors only. Called for the
   * payload key (32 bytes), the nonce (24), then one ephemeral seed (32) per
   * recipient, in that order.
   */
  randomBytes?: (n: number) => Uint8Array;
}

function exactly(b: Uint8Array, n: number): Uint8Array {
  if (!(b instanceof Uint8Array) || b.length !== n) throw new ShuniuError('E_ARGUMENT', `randomBytes(${n}) returned the wrong length`);
  return b;
}

/** base64url(SHA-256(JCS(sealed))). */
export function sealedHashOf(sealed: Sealed): string {
  return digest(sealed);
}

/**
 * Opens the sealed part of a record as hub `hub` with its X25519 key pair.
 *
 * @throws ShuniuError E_SEALED when the record has no sealed part, it was not sealed to this hub, or it was tampered with
 */
export function openSealedPart(record: SignedRecord, hub: string, keyPair: KeyPair): JsonValue {
  const s = record.sealed;
  if (!s) throw new ShuniuError('E_SEALED', 'record has no sealed part (never had one, or it was erased)');
  if (record.sealedHash !== sealedHashOf(s)) throw new ShuniuError('E_SEALED', 'sealed part does not match sealedHash');
  const entry = s.to.find((t) => t.hub === hub);
  if (!entry) throw new ShuniuError('E_SEALED', `sealed part is not addressed to hub ${hub}`);
  const key = openSealed(fromBase64url(entry.key), keyPair);
  if (key?.length !== 32) throw new ShuniuError('E_SEALED', 'cannot open the sealed key with this key pair');
  let ct: Uint8Array;
  try {
    ct = fromBase64url(s.ct);
  } catch (cause) {
    // The schema allows any base64url alphabet string here; a non-canonical one cannot be a box we made.
    throw new ShuniuError('E_SEALED', 'sealed ct is not canonical base64url', { cause });
  }
  const plain = secretboxOpen(ct, fromBase64url(s.nonce), key);
  if (!plain) throw new ShuniuError('E_SEALED', 'sealed payload fails authentication');
  return parseIJson(fromUtf8(plain));
}

/** The record with its sealed part erased; it still verifies because only sealedHash is signed. */
export function eraseSealed<R extends SignedRecord>(record: R): R {
  const { sealed: _s, ...rest } = record;
  return rest as R;
}
