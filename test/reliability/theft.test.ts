// Issue 10, point 7: a stolen data directory does not let a thief take a hub for good. The recovery seed is not in
// it (init writes it to recovery.key.json for the operator to move offline), and `shuniu recover` with that offline
// key cuts the thief's records off on every node that gets the recovery (spec/keys.md §5, spec/node.md §11).
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Author,
  fromHex,
  keyPairsFromSeeds,
  publicKeysOf,
  randomSeeds,
  recordId,
  type SignedRecord,
  signingKeyPairFromSeed,
  signRecovery,
  toBase64url,
} from '@shuniu/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { run as recoverCommand } from '../../nodes/hub/src/commands/recover.js';
import { readKeyFile } from '../../nodes/hub/src/files.js';
import { initDataDir } from '../../nodes/hub/src/node.js';
import { acksOf, checkAnswer, figure, needBody, post, reopen, startNode } from './lib/harness.js';

type Running = Awaited<ReturnType<typeof startNode>>;
const open: Running[] = [];
afterAll(async () => {
  for (const n of open) await n.node.close().catch(() => {});
});
const track = (n: Running) => {
  open.push(n);
  return n;
};

/** Every record of `hub` a node holds on its chain (not superseded), in seq order. */
const chainOf = (n: Running, hub: string): SignedRecord[] => n.node.store.log(hub, -1, 100_000).map((r) => JSON.parse(r.json) as SignedRecord);
/** Every record of `hub` a node stored, superseded and fork proofs included. */
const allOf = (n: Running, hub: string): SignedRecord[] =>
  n.node.store
    .since(0, 1_000_000)
    .filter((r) => r.hub === hub)
    .map((r) => JSON.parse(r.json) as SignedRecord);

async function pushTo(n: Running, records: SignedRecord[]): Promise<string[]> {
  const c = await checkAnswer(await post(`${n.url}/v1/records`, records));
  expect(c.faults).toEqual([]);
  return acksOf(c).map((a) => (a.code ? `${a.status} ${a.code}` : a.status));
}

/** Every file under `dir` whose bytes contain `needle` (as text). */
function filesContaining(dir: string, needle: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    const bytes = readFileSync(path);
    if (bytes.includes(needle) || bytes.includes(needle.toUpperCase()) || bytes.includes(Buffer.from(needle, 'hex'))) out.push(name);
  }
  return out;
}

describe('theft of a data directory (point 7)', () => {
  it('the thief signs with the stolen key and rotates it, but cannot recover; the owner recovers with the offline key and wins on every node', async () => {
    const offline = mkdtempSync(join(tmpdir(), 'shuniu-offline-'));
    // A province node that will see both branches, and the county hub it admitted.
    const third = track(await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, { threads: 0 }));
    let owner = await startNode({ name: '孝南区枢纽', level: 'county', region: '420902' }, { threads: 0 });
    const hub = owner.node.hubId;
    expect((await post(`${third.url}/v1/admissions`, { child: hub, level: 'county', region: '420902' }, third.token)).status).toBe(201);

    // init wrote the recovery seed apart from the node's key file; the operator moves it offline as told.
    const recoveryFile = join(owner.dir, 'recovery.key.json');
    expect(statSync(recoveryFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(owner.dir, 'hub.key.json'), 'utf8'))).not.toHaveProperty('recoverySeed');
    const offlineKey = join(offline, 'recovery.key.json');
    renameSync(recoveryFile, offlineKey);
    const recoverySeed = JSON.parse(readFileSync(offlineKey, 'utf8')).recoverySeed as string;
    expect(recoverySeed).toMatch(/^[0-9a-f]{64}$/);

    const a = await owner.node.publisher.publish('need.posted', needBody({ quantity: 100 }));
    expect(a.ack.status).toBe('accepted');
    expect((await pushTo(third, chainOf(owner, hub))).every((s) => s === 'accepted')).toBe(true);

    // The theft: a copy of the whole data directory.
    const headAtTheft = owner.node.store.chainView(hub)?.head.seq ?? -1;
    await owner.node.close();
    const stolen = mkdtempSync(join(tmpdir(), 'shuniu-stolen-'));
    cpSync(owner.dir, stolen, { recursive: true });
    // Nothing the thief copied holds the recovery seed: no recovery is possible from it.
    expect(existsSync(join(stolen, 'recovery.key.json'))).toBe(false);
    expect(filesContaining(stolen, recoverySeed)).toEqual([]);
    await expect(recoverCommand(['--dir', stolen, '--recovery-key', join(stolen, 'hub.key.json')])).rejects.toMatchObject({ code: 'E_KEY' });

    // The owner's node goes on a little before anyone notices; the thief's node signs with the stolen key.
    owner = await reopen(owner.dir, { threads: 0 });
    expect((await owner.node.publisher.publish('need.posted', needBody({ quantity: 101 }))).ack.status).toBe('accepted');
    const thief = track(await reopen(stolen, { threads: 0 }));
    const t1 = await thief.node.publisher.publish('need.posted', needBody({ quantity: 666 }));
    expect(t1.ack.status).toBe('accepted');
    // An ordinary rotation with the stolen signing key: the thief's own keys from here on.
    const thiefSeeds = randomSeeds();
    const rot = await thief.node.publisher.publish('hub.keys.rotated', publicKeysOf(keyPairsFromSeeds(thiefSeeds)));
    expect(rot.ack.status).toBe('accepted');
    const head = thief.node.store.chainView(hub)?.head;
    if (!head) throw new Error('no head');
    const thiefAuthor = new Author({ hub, secretKey: signingKeyPairFromSeed(thiefSeeds.signing).secretKey, head, wall: () => Date.now() });
    const t2 = thiefAuthor.sign('need.posted', needBody({ quantity: 667 }));
    expect((await thief.node.ingestor.ingest([t2.record], 'local'))[0]?.status).toBe('accepted');
    const thiefBranch = chainOf(thief, hub).filter((r) => r.seq > headAtTheft);
    expect(thiefBranch.length).toBeGreaterThanOrEqual(4);

    // The thief's records reach the owner's node (through a peer) before anyone notices: kept as fork proofs and
    // beside the chain, never followed; the owner's node still writes on its own key.
    const early = await pushTo(owner, thiefBranch);
    expect(early.every((x) => x.startsWith('rejected'))).toBe(true);
    expect(early[0]).toBe('rejected E_FORK');
    for (const r of thiefBranch) expect(owner.node.store.recordById(recordId(r))).toBeDefined();
    expect((await owner.node.publisher.publish('need.posted', needBody({ quantity: 104 }))).ack.status).toBe('accepted');

    // The owner stops the node and recovers from the first seq after the theft, with the offline key.
    await owner.node.close();
    const signingBefore = readKeyFile(owner.dir).signing;
    expect(await recoverCommand(['--dir', owner.dir, '--recovery-key', offlineKey, '--from-seq', String(headAtTheft + 1)])).toBe(0);
    const newRecoveryKey = join(offline, `recovery-${hub.slice(0, 8)}-seq${headAtTheft + 1}.key.json`);
    expect(statSync(newRecoveryKey).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(newRecoveryKey, 'utf8')).recoverySeed).not.toBe(recoverySeed);
    const keyFileAfter = JSON.parse(readFileSync(join(owner.dir, 'hub.key.json'), 'utf8'));
    expect(keyFileAfter).not.toHaveProperty('recoverySeed');
    expect(Buffer.from(readKeyFile(owner.dir).signing).equals(Buffer.from(signingBefore))).toBe(false);
    expect(statSync(join(owner.dir, 'hub.key.json')).mode & 0o777).toBe(0o600);

    // The owner's node runs on the new keys and keeps writing: no E_FORK, no E_SIG.
    owner = track(await reopen(owner.dir, { threads: 0 }));
    const recovery = chainOf(owner, hub).find((r) => r.seq === headAtTheft + 1);
    expect(recovery?.type).toBe('hub.keys.rotated');
    const recoveryId = recordId(recovery as SignedRecord);
    const b = await owner.node.publisher.publish('need.posted', needBody({ quantity: 102 }));
    expect(b.ack.status).toBe('accepted');

    // Both branches reach the province node, the thief's first (the worst order), and the owner's node too.
    expect((await pushTo(third, thiefBranch)).every((s) => s === 'accepted')).toBe(true);
    const ownerBranch = chainOf(owner, hub).filter((r) => r.seq > headAtTheft);
    expect((await pushTo(third, ownerBranch)).every((s) => s === 'accepted')).toBe(true);
    // Sent again after the recovery: nothing accepted, nothing new stored.
    const records = owner.node.store.maxOrd();
    expect((await pushTo(owner, thiefBranch)).some((x) => x === 'accepted')).toBe(false);
    expect(owner.node.store.maxOrd()).toBe(records);
    const c = await owner.node.publisher.publish('need.posted', needBody({ quantity: 103 }));
    expect(c.ack.status).toBe('accepted');
    expect(await pushTo(third, [c.record])).toEqual(['accepted']);

    for (const n of [third, owner]) {
      const hubs = n.node.ingestor.engine.collection('hubs') as { id: string; status: string; recovery?: string; keys?: { signingKey: string } }[];
      const h = hubs.find((x) => x.id === hub);
      expect(h).toMatchObject({ status: 'active', recovery: recoveryId });
      expect(h?.keys?.signingKey).toBe(toBase64url(signingKeyPairFromSeed(readKeyFile(owner.dir).signing).publicKey));
      const needs = new Set((n.node.ingestor.engine.collection('needs') as { id: string }[]).map((x) => x.id));
      expect(needs.has(a.id)).toBe(true);
      expect(needs.has(b.id)).toBe(true);
      expect(needs.has(c.id)).toBe(true);
      expect(needs.has(t1.id)).toBe(false);
      expect(needs.has(t2.id)).toBe(false);
      expect(n.node.store.chainView(hub)?.head.id).toBe(recordId(c.record));
    }
    figure('theft', {
      thiefRecords: thiefBranch.length,
      storedAtThird: allOf(third, hub).length,
      recoveryAt: headAtTheft + 1,
      ownerHead: owner.node.store.chainView(hub)?.head.seq,
    });
  });

  it("a thief who also holds the recovery seed (a directory from before it moved out) cannot move the owner's node; the parent's vouch makes the owner's recovery win", async () => {
    const offline = mkdtempSync(join(tmpdir(), 'shuniu-offline-'));
    const parent = track(await startNode({ name: '孝感市枢纽', level: 'city', region: '420900' }, { threads: 0 }));
    const dir = mkdtempSync(join(tmpdir(), 'shuniu-hub-'));
    await initDataDir({ dir, name: '孝南区枢纽', level: 'county', region: '420902', port: 0, roots: [parent.node.hubId] });
    let owner = await reopen(dir, { threads: 0 });
    const hub = owner.node.hubId;
    expect((await post(`${parent.url}/v1/admissions`, { child: hub, level: 'county', region: '420902' }, parent.token)).status).toBe(201);
    const offlineKey = join(offline, 'recovery.key.json');
    renameSync(join(dir, 'recovery.key.json'), offlineKey);
    // The thief's copy of the seed: as an old hub.key.json held it.
    const stolenSeed = fromHex(JSON.parse(readFileSync(offlineKey, 'utf8')).recoverySeed as string);
    const a = await owner.node.publisher.publish('need.posted', needBody({ quantity: 200 }));
    expect(a.ack.status).toBe('accepted');
    const view = owner.node.store.chainView(hub);
    if (!view) throw new Error('no chain');
    const seq = view.head.seq + 1;

    await owner.node.close();
    expect(await recoverCommand(['--dir', dir, '--recovery-key', offlineKey])).toBe(0);
    owner = track(await reopen(dir, { threads: 0 }));
    const ownRecovery = chainOf(owner, hub).find((r) => r.seq === seq) as SignedRecord;
    expect(ownRecovery.type).toBe('hub.keys.rotated');

    // The thief signs a competing recovery at the same branch point, with a later hlc.
    const theirs = signRecovery({
      hub,
      recoverySeed: stolenSeed,
      commitment: view.keys.recoveryCommitment,
      seq,
      prev: view.head.id,
      hlc: { ms: Date.now() + 5000, c: 0 },
    });
    expect(await pushTo(owner, [theirs.record])).toEqual(['rejected E_FORK']);
    // Kept as proof, never followed: the owner's node still signs with its own new keys.
    expect(owner.node.store.chainView(hub)?.idAt(seq)).toBe(recordId(ownRecovery));
    expect(owner.node.store.recordById(theirs.id)).toBeDefined();
    const b = await owner.node.publisher.publish('need.posted', needBody({ quantity: 201 }));
    expect(b.ack.status).toBe('accepted');
    const hubState = () => (owner.node.ingestor.engine.collection('hubs') as { id: string; status: string; recovery?: string }[]).find((h) => h.id === hub);
    // Without a vouch the greater hlc wins (spec/keys.md §5.1): the thief's recovery, for now.
    expect(hubState()?.recovery).toBe(theirs.id);

    // The parent vouches for the owner's recovery within 72 hours.
    expect(new Set(await pushTo(parent, chainOf(owner, hub)))).toEqual(new Set(['accepted']));
    const vouch = await parent.node.publisher.publish('attestation', { subject: recordId(ownRecovery), kind: 'recovery_vouched', result: 'pass' });
    expect(vouch.ack.status).toBe('accepted');
    expect((await pushTo(owner, chainOf(parent, parent.node.hubId))).includes('accepted')).toBe(true);
    expect(hubState()).toMatchObject({ status: 'active', recovery: recordId(ownRecovery) });
    const needs = new Set((owner.node.ingestor.engine.collection('needs') as { id: string }[]).map((x) => x.id));
    expect(needs.has(a.id) && needs.has(b.id)).toBe(true);
    const c = await owner.node.publisher.publish('need.posted', needBody({ quantity: 202 }));
    expect(c.ack.status).toBe('accepted');

    // The parent, which holds the owner's branch, then gets the thief's recovery (and a record after it), then the
    // owner's next record: it keeps every one of them, so its state is the owner's node's, whatever the order.
    const thiefKey = signingKeyPairFromSeed(theirs.seeds.signing).secretKey;
    const thiefAuthor = new Author({ hub, secretKey: thiefKey, head: { seq, id: theirs.id, hlc: theirs.record.hlc }, wall: () => Date.now() + 6000 });
    const t1 = thiefAuthor.sign('need.posted', needBody({ quantity: 666 }));
    expect(await pushTo(parent, [theirs.record, t1.record])).toEqual(['rejected E_FORK', 'rejected E_SIG']);
    expect(parent.node.store.chainView(hub)?.idAt(seq)).toBe(recordId(ownRecovery));
    expect(await pushTo(parent, [c.record])).toEqual(['accepted']);
    const atParent = (parent.node.ingestor.engine.collection('hubs') as { id: string; status: string; recovery?: string }[]).find((h) => h.id === hub);
    expect(atParent).toMatchObject({ status: 'active', recovery: recordId(ownRecovery) });
    const parentNeeds = new Set((parent.node.ingestor.engine.collection('needs') as { id: string }[]).map((x) => x.id));
    expect(parentNeeds.has(c.id)).toBe(true);
    expect(parentNeeds.has(t1.id)).toBe(false);
    // And the other way round: the owner's node gets the thief's record after its recovery.
    expect(await pushTo(owner, [t1.record])).toEqual(['rejected E_SIG']);
    expect(parent.node.store.recordById(t1.id)).toBeDefined();
    expect(owner.node.store.recordById(t1.id)).toBeDefined();

    // A node that gets the thief's recovery first follows it, but keeps the owner's branch beside it (a competing
    // recovery is a fork proof; the owner's records verify with the key its recovery announced), and once the
    // parent's vouch arrives its state is the others': the owner's recovery and records count, the thief's do not.
    const late = track(await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, { threads: 0 }));
    expect((await post(`${late.url}/v1/admissions`, { child: parent.node.hubId, level: 'city', region: '420900' }, late.token)).status).toBe(201);
    const before = chainOf(owner, hub).filter((r) => r.seq < seq);
    expect(new Set(await pushTo(late, [...before, theirs.record, t1.record]))).toEqual(new Set(['held E_NOT_ADMITTED', 'held E_GAP']));
    expect(new Set(await pushTo(late, chainOf(parent, parent.node.hubId)))).toEqual(new Set(['accepted']));
    expect(late.node.store.chainView(hub)?.idAt(seq)).toBe(theirs.id);
    const ownBranch = chainOf(owner, hub).filter((r) => r.seq >= seq);
    const acks = await pushTo(late, ownBranch);
    expect(acks[0]).toBe('rejected E_FORK');
    for (const r of ownBranch) expect(late.node.store.recordById(recordId(r))).toBeDefined();
    const atLate = (late.node.ingestor.engine.collection('hubs') as { id: string; status: string; recovery?: string }[]).find((h) => h.id === hub);
    expect(atLate).toMatchObject({ status: 'active', recovery: recordId(ownRecovery) });
    const lateNeeds = new Set((late.node.ingestor.engine.collection('needs') as { id: string }[]).map((x) => x.id));
    expect([a.id, b.id, c.id].every((id) => lateNeeds.has(id))).toBe(true);
    expect(lateNeeds.has(t1.id)).toBe(false);
    figure('theft-with-seed', { acksAtLateNode: acks });
  });
});
