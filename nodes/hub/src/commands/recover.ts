import { renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { HybridClock, ready, recordId, ShuniuError, signRecovery } from '@shuniu/protocol';
import { KEY_FILE } from '../config.js';
import { keyFileText, readKeyFile, readRecoveryKey, recoveryKeyText, writePrivateFile } from '../files.js';
import { HubNode } from '../node.js';
import { args } from './io.js';

const USAGE = `usage: shuniu recover --dir DIR --recovery-key FILE [--from-seq S] [--out FILE]
Takes DIR's hub back after its data directory or signing key was stolen (spec/keys.md §5). Stop the node first.
Signs a recovery rotation with the offline recovery key: records from seq S on (default: the head + 1) stop
counting; choose the first seq the thief signed. New signing, encryption and recovery keys are made; the rotation
is stored in DIR's database (the node sends it to its peers when it starts), DIR/hub.key.json gets the new
signing and encryption seeds, and the new recovery key goes to FILE (default: beside the old one). Move the new
recovery key offline like the first; the old one is spent.`;

/** `shuniu recover`: a recovery rotation signed with the offline recovery key (spec/keys.md §5, spec/node.md §11). */
export async function run(argv: string[]): Promise<number> {
  const { values } = args({
    args: argv,
    options: {
      dir: { type: 'string' },
      'recovery-key': { type: 'string' },
      'from-seq': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values.dir || !values['recovery-key']) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const r = await recover({
    dir: values.dir,
    recoveryKey: values['recovery-key'],
    ...(values['from-seq'] !== undefined ? { fromSeq: Number(values['from-seq']) } : {}),
    ...(values.out ? { out: values.out } : {}),
  });
  process.stdout.write(`${r.id}\n`);
  process.stderr.write(
    [
      `hub ${r.hub}: recovery rotation ${r.id} at seq ${r.seq} stored; records from seq ${r.seq} on signed with the old key no longer count`,
      `${join(values.dir, KEY_FILE)} holds the new signing and encryption seeds`,
      `NEW RECOVERY KEY: ${r.out}`,
      '  Move it offline now (two copies), then delete it there; the old recovery key is spent.',
      `next: \`shuniu start --dir ${values.dir}\`; ask the parent hub's operator to vouch for the recovery (attestation recovery_vouched)`,
      '',
    ].join('\n'),
  );
  return 0;
}

export interface RecoverOptions {
  dir: string;
  /** The offline recovery key file (recovery.key.json, or a full spec/keys.md §6 key file). */
  recoveryKey: string;
  /** Branch point: the first seq that stops counting (default head + 1). */
  fromSeq?: number;
  /** Where the new recovery key goes (default: beside the old one). */
  out?: string;
  now?: number;
}

/**
 * Signs and stores a recovery rotation for the hub of `dir`, then switches
 * its key file to the new keys. Nothing changes if the node refuses it: the
 * new files are written first under other names and moved into place only
 * once the rotation is stored.
 */
export async function recover(o: RecoverOptions): Promise<{ hub: string; id: string; seq: number; out: string }> {
  await ready();
  const keys = readKeyFile(o.dir);
  const rk = readRecoveryKey(o.recoveryKey);
  if (rk.hub !== keys.hub) throw new ShuniuError('E_KEY', `${o.recoveryKey} is the recovery key of hub ${rk.hub}, not of ${keys.hub}`);
  const node = await HubNode.open(o.dir, { threads: 0, log: (m) => process.stderr.write(`${m}\n`) });
  const newKeyPath = join(o.dir, `${KEY_FILE}.new`);
  let wrote: string | undefined;
  try {
    const view = node.store.chainView(keys.hub);
    if (!view) throw new ShuniuError('E_NOT_FOUND', `${o.dir} does not hold the chain of hub ${keys.hub}`);
    const seq = o.fromSeq ?? view.head.seq + 1;
    if (!Number.isSafeInteger(seq) || seq < 1 || seq > view.head.seq + 1)
      throw new ShuniuError('E_ARGUMENT', `--from-seq must be 1…${view.head.seq + 1} (the head is ${view.head.seq})`);
    const prev = view.idAt(seq - 1);
    if (!prev) throw new ShuniuError('E_NOT_FOUND', `no record of hub ${keys.hub} at seq ${seq - 1} here`);
    // The keys in force after seq − 1: a thief's later rotation cannot change the commitment that counts.
    const inForce = seq - 1 === view.head.seq ? view.keys : (view.keysAt?.(seq) ?? view.keys);
    // Later than anything this chain holds, so the node's next records follow it.
    const hlc = new HybridClock(view.head.hlc).next(o.now ?? Date.now());
    const signed = signRecovery({ hub: keys.hub, recoverySeed: rk.seed, commitment: inForce.recoveryCommitment, seq, prev, hlc });
    const out = o.out ?? join(dirname(o.recoveryKey), `recovery-${keys.hub.slice(0, 8)}-seq${seq}.key.json`);
    if (resolve(out) === resolve(o.recoveryKey))
      throw new ShuniuError('E_ARGUMENT', '--out must not be the old recovery key file: keep it until the rotation is accepted');
    writePrivateFile(out, recoveryKeyText(keys.hub, signed.seeds.recovery, keys.created), true);
    wrote = out;
    writePrivateFile(newKeyPath, keyFileText({ hub: keys.hub, created: keys.created, signing: signed.seeds.signing, encryption: signed.seeds.encryption }));
    const [ack] = await node.ingestor.ingest([signed.record], 'local');
    if (ack?.status !== 'accepted') {
      const why = ack && 'message' in ack ? `${ack.status}: ${ack.message}` : String(ack?.status);
      throw new ShuniuError('E_CHAIN', `the node did not store the recovery rotation (${why})`);
    }
    renameSync(newKeyPath, join(o.dir, KEY_FILE));
    return { hub: keys.hub, id: recordId(signed.record), seq, out };
  } catch (e) {
    rmSync(newKeyPath, { force: true });
    if (wrote) rmSync(wrote, { force: true });
    throw e;
  } finally {
    await node.close();
  }
}
