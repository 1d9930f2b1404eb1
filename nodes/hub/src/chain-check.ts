import {
  assumeVerified,
  type ChainView,
  checkSignature,
  compareHlc,
  DEFAULT_MAX_SKEW_MS,
  fromBase64url,
  hubIdOf,
  nextKeys,
  ShuniuError,
  type SignedRecord,
  sealedHashOf,
  sha256,
  toBase64url,
  type VerifyOptions,
  type VerifyResult,
} from '@shuniu/protocol';

const invalid = (code: ConstructorParameters<typeof ShuniuError>[0], message: string, id?: string, path?: (string | number)[]): VerifyResult => ({
  kind: 'invalid',
  ...(id ? { id } : {}),
  error: new ShuniuError(code, message, path ? { path } : {}),
});

function forkError(record: SignedRecord, existing: string, id: string): ShuniuError {
  return new ShuniuError('E_FORK', `hub ${record.hub} signed two records at seq ${record.seq}: ${existing} and ${id}`, {
    path: ['seq'],
    detail: { hub: record.hub, seq: record.seq, ids: [existing, id] },
  });
}

/**
 * verifyRecord (packages/protocol/src/verify.ts) for a record whose id the
 * ingest workers already computed from its signed bytes: the same steps in
 * the same order with the same outcomes and codes, without hashing the
 * signed bytes again on the main thread. `bytes` are only needed for a
 * signature not found in `checked`. nodes/hub/test/chain-check.test.ts holds
 * it to verifyRecord on every spec vector.
 */
export function checkChain(record: SignedRecord, id: string, chain: ChainView | undefined, opts: VerifyOptions & { bytes: Uint8Array }): VerifyResult {
  const bytes = opts.bytes;
  if (record.sealed !== undefined) {
    if (record.sealedHash === undefined) return invalid('E_SEALED', 'sealed part present without sealedHash', id, ['sealedHash']);
    if (sealedHashOf(record.sealed) !== record.sealedHash) return invalid('E_SEALED', 'sealed part does not match sealedHash', id, ['sealed']);
  }
  if (opts.now !== undefined && record.hlc.ms > opts.now + (opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS)) {
    return invalid('E_CLOCK_SKEW', `hlc ${record.hlc.ms} is more than ${opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS} ms ahead of this node's clock`, id, ['hlc']);
  }
  if (chain && chain.idAt(record.seq) === id) return { kind: 'duplicate', id };

  if (record.type === 'hub.inception') {
    if (record.seq !== 0 || record.prev !== null) return invalid('E_CHAIN', 'hub.inception must have seq 0 and prev null', id, ['seq']);
    if (hubIdOf(record.body) !== record.hub) return invalid('E_HUB_ID', 'hub id is not base64url(SHA-256(JCS(inception body)))', id, ['hub']);
    if (!(opts.checked?.get(`${record.body.signingKey} ${id}`) ?? checkSignature(record, record.body.signingKey, bytes)))
      return invalid('E_SIG', 'signature does not verify with the inception signing key', id, ['sig']);
    const keys = { signingKey: record.body.signingKey, encryptionKey: record.body.encryptionKey, recoveryCommitment: record.body.recoveryCommitment };
    const verified = assumeVerified(record, id);
    if (chain) return { kind: 'fork', verified, existing: chain.idAt(0) as string, error: forkError(record, chain.idAt(0) as string, id) };
    return { kind: 'valid', verified, keys, recovery: false };
  }

  if (record.seq === 0 || record.prev === null) return invalid('E_CHAIN', 'only hub.inception may have seq 0 or prev null', id, ['seq']);
  if (!chain) return { kind: 'gap', id, error: new ShuniuError('E_GAP', `no inception held for hub ${record.hub}`, { path: ['hub'] }) };
  if (record.seq > chain.head.seq + 1) {
    return { kind: 'gap', id, error: new ShuniuError('E_GAP', `hub ${record.hub}: seq ${record.seq} but head is ${chain.head.seq}`, { path: ['seq'] }) };
  }
  const keys = (record.seq <= chain.head.seq ? chain.keysAt?.(record.seq) : undefined) ?? chain.keys;
  const recovery = record.type === 'hub.keys.rotated' && record.body.recovery !== undefined;
  let signer = keys.signingKey;
  if (recovery && record.type === 'hub.keys.rotated' && record.body.recovery) {
    signer = record.body.recovery.key;
    if (toBase64url(sha256(fromBase64url(signer))) !== keys.recoveryCommitment) {
      return invalid('E_SIG', 'recovery key does not match the recovery commitment', id, ['body', 'recovery', 'key']);
    }
  }
  if (!(opts.checked?.get(`${signer} ${id}`) ?? checkSignature(record, signer, bytes)))
    return invalid('E_SIG', `signature does not verify with the ${recovery ? 'recovery' : 'current signing'} key of hub ${record.hub}`, id, ['sig']);
  const verified = assumeVerified(record, id);
  const next = nextKeys(keys, record);
  if (recovery) {
    if (chain.idAt(record.seq - 1) !== record.prev) return invalid('E_CHAIN', `prev is not the id held at seq ${record.seq - 1}`, id, ['prev']);
    return { kind: 'valid', verified, keys: next, recovery: true };
  }
  if (record.seq <= chain.head.seq) {
    const existing = chain.idAt(record.seq) as string;
    return { kind: 'fork', verified, existing, error: forkError(record, existing, id) };
  }
  if (record.prev !== chain.head.id) return invalid('E_CHAIN', `prev does not match the id of seq ${chain.head.seq}`, id, ['prev']);
  if (compareHlc(record.hlc, chain.head.hlc) <= 0) return invalid('E_CHAIN', 'hlc must be later than the previous record', id, ['hlc']);
  return { kind: 'valid', verified, keys: next, recovery: false };
}
