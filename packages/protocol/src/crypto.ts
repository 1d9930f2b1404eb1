import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import sodiumModule from 'libsodium-wrappers';
import { ShuniuError } from './errors.js';

type Sodium = typeof sodiumModule;
let sodium: Sodium | undefined;

/**
 * Loads libsodium (WebAssembly). Call once and await it before any signing,
 * verifying or sealing; every other function here is synchronous.
 *
 * @example await ready(); const kp = signingKeyPairFromSeed(seed);
 */
export async function ready(): Promise<void> {
  if (sodium) return;
  await sodiumModule.ready;
  sodium = sodiumModule;
}

function na(): Sodium {
  if (!sodium) throw new ShuniuError('E_ARGUMENT', 'libsodium is not loaded: await ready() first');
  return sodium;
}

/** SHA-256 (FIPS 180-4). libsodium's standard build has no SHA-256, hence @noble/hashes. */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

export interface KeyPair {
  publicKey: Uint8Array;
  /** libsodium form: Ed25519 is seed‖public (64 bytes); X25519 is 32 bytes. */
  secretKey: Uint8Array;
}

function need(bytes: Uint8Array, len: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== len) {
    throw new ShuniuError('E_KEY', `${what} must be ${len} bytes`);
  }
}

/** 32 random bytes from libsodium's CSPRNG. */
export function randomSeed(): Uint8Array {
  return na().randombytes_buf(32);
}

export function randomBytes(n: number): Uint8Array {
  return na().randombytes_buf(n);
}

/** Ed25519 key pair from a 32-byte seed (RFC 8032 §5.1.5). */
export function signingKeyPairFromSeed(seed: Uint8Array): KeyPair {
  need(seed, 32, 'Ed25519 seed');
  const kp = na().crypto_sign_seed_keypair(seed);
  return { publicKey: kp.publicKey, secretKey: kp.privateKey };
}

/** X25519 key pair from a 32-byte seed (libsodium crypto_box_seed_keypair: secret = SHA-512(seed)[0..32]). */
export function encryptionKeyPairFromSeed(seed: Uint8Array): KeyPair {
  need(seed, 32, 'X25519 seed');
  const kp = na().crypto_box_seed_keypair(seed);
  return { publicKey: kp.publicKey, secretKey: kp.privateKey };
}

/** Detached Ed25519 signature (64 bytes). */
export function ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  need(secretKey, 64, 'Ed25519 secret key');
  return na().crypto_sign_detached(message, secretKey);
}

/**
 * Ed25519 verification as libsodium does it (strict: canonical S, no
 * small-order public keys). A wrong signature is a `false`, not a throw.
 */
export function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return na().crypto_sign_verify_detached(signature, message, publicKey);
  } catch {
    return false;
  }
}

/** libsodium crypto_box_seal: anonymous sender, X25519 + XSalsa20-Poly1305. */
export function sealTo(message: Uint8Array, publicKey: Uint8Array): Uint8Array {
  need(publicKey, 32, 'X25519 public key');
  return na().crypto_box_seal(message, publicKey);
}

/**
 * The same sealed box as `sealTo`, with the ephemeral key pair derived from a
 * given 32-byte seed instead of the CSPRNG: epk ‖ crypto_box(message, nonce =
 * BLAKE2b-192(epk ‖ recipient pk), recipient pk, esk). Only for reproducible
 * test vectors; a reused seed leaks the message key to anyone who knows it.
 */
export function sealToWithEphemeralSeed(message: Uint8Array, publicKey: Uint8Array, ephemeralSeed: Uint8Array): Uint8Array {
  need(publicKey, 32, 'X25519 public key');
  need(ephemeralSeed, 32, 'ephemeral seed');
  const s = na();
  const eph = s.crypto_box_seed_keypair(ephemeralSeed);
  const nonceIn = new Uint8Array(64);
  nonceIn.set(eph.publicKey, 0);
  nonceIn.set(publicKey, 32);
  const nonce = s.crypto_generichash(24, nonceIn, null);
  const box = s.crypto_box_easy(message, nonce, publicKey, eph.privateKey);
  const out = new Uint8Array(32 + box.length);
  out.set(eph.publicKey, 0);
  out.set(box, 32);
  return out;
}

/** Opens a sealed box; undefined when it was not sealed to this key pair or is damaged. */
export function openSealed(box: Uint8Array, kp: KeyPair): Uint8Array | undefined {
  try {
    return na().crypto_box_seal_open(box, kp.publicKey, kp.secretKey);
  } catch {
    return undefined;
  }
}

/** XSalsa20-Poly1305 (crypto_secretbox_easy) with a 32-byte key and 24-byte nonce. */
export function secretboxSeal(message: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
  need(key, 32, 'secretbox key');
  need(nonce, 24, 'secretbox nonce');
  return na().crypto_secretbox_easy(message, nonce, key);
}

export function secretboxOpen(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | undefined {
  try {
    return na().crypto_secretbox_open_easy(box, nonce, key);
  } catch {
    return undefined;
  }
}
