/**
 * The checks. Each drives the node over HTTP only and compares what it sees
 * with spec/ (node.md, errors.md, records.md, keys.md, the vectors).
 */
import assert from 'node:assert/strict';
import {
  checkSignature,
  digest,
  encryptionKeyPairFromSeed,
  fromHex,
  type JsonValue,
  keyPairsFromSeeds,
  openSealedPart,
  parseRecord,
  ready,
  recordId,
  recoveryCommitment,
  type SignedRecord,
  seal,
  signRecovery,
} from '@shuniu/protocol';
import { type Answer, assertProblem, assertStatus, type Client, type Wire } from './client.js';
import { type Harness, Skip } from './harness.js';
import { needBody, profileBody, SuiteHub } from './hubs.js';
import { type InvalidVector, invalidVectors, recordVectors, type StatusTable, stateSchemas, statusTable } from './spec.js';

export interface SuiteContext {
  client: Client;
  h: Harness;
  specDir: string;
}

interface NodeInfo {
  hub: string;
  level?: string;
  region?: string;
  endpoints: Record<string, string>;
  sealedKey?: string;
}

const LEVELS = ['national', 'province', 'city', 'county', 'org'] as const;

export async function runSuite(ctx: SuiteContext): Promise<void> {
  await ready();
  const { client: c, h } = ctx;
  const op = !!c.operatorToken;
  const noToken = 'needs --operator-token (an operator token of the node)';
  let table: StatusTable | undefined;

  // ── discovery ──────────────────────────────────────────────────────────
  h.begin('discovery');
  let node: NodeInfo | undefined;
  await h.check('GET /.well-known/shuniu names the hub, protocol version 1 and absolute endpoints', async () => {
    const d = assertStatus(await c.get('/.well-known/shuniu'), 200);
    assert.match(d.hub, /^[A-Za-z0-9_-]{43}$/, 'hub is a base64url hub id');
    assert.ok(Array.isArray(d.protocol?.versions) && d.protocol.versions.includes(1), 'protocol.versions includes 1');
    for (const k of ['records', 'heads', 'log', 'feed', 'live', 'state', 'stateHash', 'openapi', 'jwks']) {
      assert.equal(typeof d.endpoints?.[k], 'string', `endpoints.${k}`);
      assert.match(d.endpoints[k], /^https?:\/\//, `endpoints.${k} is an absolute URL`);
    }
    assert.ok(d.endpoints.log.includes('{hub}'), 'endpoints.log is a template with {hub}');
    assert.ok(d.endpoints.state.includes('{collection}'), 'endpoints.state is a template with {collection}');
    node = { hub: d.hub, level: d.profile?.level, region: d.profile?.region, endpoints: d.endpoints };
  });
  if (!node) {
    h.skip('everything else', 'no discovery document');
    return;
  }
  const me = node;
  await h.check('every GET endpoint of the discovery document is served (spec/node.md §2)', async () => {
    for (const [k, tpl] of Object.entries(me.endpoints)) {
      if (k === 'records' || k === 'live') continue;
      const url = tpl.replace('{hub}', me.hub).replace('{collection}', 'needs');
      const a = await c.get(url);
      assert.equal(a.status, 200, `endpoints.${k} ${url} answered ${a.status}`);
    }
    const live = await c.events(me.endpoints.live!.replace('{hub}', me.hub));
    try {
      assert.equal(live.response.status, 200, 'endpoints.live answers 200');
      assert.match(live.response.headers.get('content-type') ?? '', /^text\/event-stream/);
    } finally {
      live.close();
    }
    const push = await c.post(me.endpoints.records!, []);
    assert.equal(push.status, 200, `POST endpoints.records with an empty batch answered ${push.status}`);
  });
  await h.check('GET /.well-known/jwks.json holds the record key (Ed25519) and the sealed key (X25519)', async () => {
    const j = assertStatus(await c.get('/.well-known/jwks.json'), 200);
    const rec = j.keys?.find((k: Wire) => k.kid === 'records');
    const sealed = j.keys?.find((k: Wire) => k.kid === 'sealed');
    assert.ok(rec && rec.kty === 'OKP' && rec.crv === 'Ed25519', 'kid records: OKP Ed25519');
    assert.ok(sealed && sealed.kty === 'OKP' && sealed.crv === 'X25519', 'kid sealed: OKP X25519');
    const log = assertStatus(await c.get(`/v1/hubs/${me.hub}/log?after=-1&limit=5000`), 200);
    const keys = keysInForce(log.records);
    assert.equal(rec.x, keys.signingKey, 'the records key is the signing key in force on the hub chain');
    assert.equal(sealed.x, keys.encryptionKey, 'the sealed key is the encryption key in force on the hub chain');
    me.sealedKey = sealed.x;
  });
  await h.check('an unknown route is 404 E_NOT_FOUND as a problem document', async () => {
    assertProblem(await c.get('/v1/no-such-route'), 404, 'E_NOT_FOUND');
  });
  await h.check('the status table of spec/errors.md §2.1 is readable', () => {
    table = statusTable(ctx.specDir);
  });
  const st = table;

  // ── admission ─────────────────────────────────────────────────────────
  h.begin('admission');
  const standing = childStanding(me);
  const admit = async (hub: string, level: string, region: string): Promise<void> => {
    if (!op) throw new Skip(noToken);
    const a = await c.post('/v1/admissions', { child: hub, level, region }, { operator: true });
    assertStatus(a, 201, `POST /v1/admissions of ${hub}`);
  };
  const a = new SuiteHub();
  let aAdmitted = false;
  await h.check('a record of a hub not admitted is held: 202 with ack held E_NOT_ADMITTED', async () => {
    const r = await c.post('/v1/records', a.inception);
    const ack = assertStatus(r, st?.heldStatus ?? 202).ack;
    assert.equal(ack?.status, 'held');
    assert.equal(ack?.code, 'E_NOT_ADMITTED');
    assert.equal(ack?.id, recordId(a.inception));
  });
  await h.check('an admission without a token is 401 E_AUTH', async () => {
    assertProblem(await c.post('/v1/admissions', { child: a.id, level: standing.level, region: standing.region }), 401, 'E_AUTH');
  });
  await h.check('the operator admits the hub (201) and its held records are released into its log', async () => {
    if (!standing.ok) throw new Skip(standing.why);
    await admit(a.id, standing.level, standing.region);
    const log = assertStatus(await c.get(`/v1/hubs/${a.id}/log`), 200);
    assert.deepEqual(
      log.records.map((r: SignedRecord) => recordId(r)),
      [recordId(a.inception)],
    );
    aAdmitted = true;
  });
  /** A fresh hub of the suite, admitted, with its inception and profile stored. */
  const admitted = async (name: string): Promise<SuiteHub> => {
    if (!op) throw new Skip(noToken);
    if (!standing.ok) throw new Skip(standing.why);
    const x = new SuiteHub();
    await admit(x.id, standing.level, standing.region);
    const p = x.sign('hub.profile', profileBody(name, standing.level as never, standing.region));
    const r = assertStatus(await c.post('/v1/records', [x.inception, p]), 200, `push of ${name}'s inception and profile`);
    assert.deepEqual(
      r.acks.map((k: Wire) => k.status),
      ['accepted', 'accepted'],
      `${name}'s inception and profile are accepted`,
    );
    return x;
  };

  // ── push ──────────────────────────────────────────────────────────────
  h.begin('push');
  const region = standing.region;
  const pushed: SignedRecord[] = [];
  const profile1 = a.sign('hub.profile', profileBody('Conformance A', standing.level as never, region));
  await h.check('a single record is accepted: 201 {ack:{status:accepted,id,ord}}', async () => {
    if (!aAdmitted) throw new Skip('hub A was not admitted');
    const r = await c.post('/v1/records', profile1);
    const ack = assertStatus(r, st?.accepted ?? 201).ack;
    assert.equal(ack?.status, 'accepted');
    assert.equal(ack?.id, recordId(profile1));
    assert.ok(Number.isSafeInteger(ack?.ord) && ack.ord >= 1, 'ord is a positive integer');
    pushed.push(profile1);
  });
  await h.check('the same record again is a duplicate: 200 {ack:{status:duplicate}}', async () => {
    if (!aAdmitted) throw new Skip('hub A was not admitted');
    const ack = assertStatus(await c.post('/v1/records', profile1), st?.duplicate ?? 200).ack;
    assert.equal(ack?.status, 'duplicate');
    assert.equal(ack?.id, recordId(profile1));
  });
  await h.check('a batch (array) is 200 with one ack per record, in order, and a summary', async () => {
    if (!aAdmitted) throw new Skip('hub A was not admitted');
    const batch = [
      a.sign('need.posted', needBody(region)),
      a.sign('need.posted', needBody(region, { urgency: 'high' })),
      a.sign('need.posted', needBody(region)),
    ];
    const r = assertStatus(await c.post('/v1/records', batch), 200);
    assert.deepEqual(
      r.acks.map((k: Wire) => [k.index, k.status, k.id]),
      batch.map((b, i) => [i, 'accepted', recordId(b)]),
    );
    assert.equal(r.summary?.accepted, 3);
    pushed.push(...batch);
  });
  await h.check('a batch as {records:[…]} is accepted the same way', async () => {
    if (!aAdmitted) throw new Skip('hub A was not admitted');
    const batch = [a.sign('need.posted', needBody(region)), a.sign('need.posted', needBody(region))];
    const r = assertStatus(await c.post('/v1/records', { records: batch }), 200);
    assert.deepEqual(
      r.acks.map((k: Wire) => k.status),
      ['accepted', 'accepted'],
    );
    pushed.push(...batch);
  });
  await h.check('a batch with a refused record is 200; the refused one acked rejected with its code', async () => {
    if (!aAdmitted) throw new Skip('hub A was not admitted');
    const good = a.sign('need.posted', needBody(region));
    const bad = { ...a.fork().sign('need.posted', needBody(region)).record };
    // A different body under the same signature: E_SIG (after `good`, at the next seq).
    const tampered = { ...bad, body: { ...bad.body, quantity: 201 } };
    const r = assertStatus(await c.post('/v1/records', [good, tampered]), 200);
    assert.equal(r.acks[0]?.status, 'accepted');
    assert.equal(r.acks[1]?.status, 'rejected');
    assert.equal(r.acks[1]?.code, 'E_SIG');
    assert.equal(r.summary?.rejected, 1);
    pushed.push(good);
  });
  await h.check('out of order: a record beyond the head is held (202, E_GAP), released when its predecessor arrives', async () => {
    if (!aAdmitted) throw new Skip('hub A was not admitted');
    const first = a.sign('need.posted', needBody(region));
    const second = a.sign('need.posted', needBody(region));
    const held = assertStatus(await c.post('/v1/records', second), st?.heldStatus ?? 202).ack;
    assert.equal(held?.status, 'held');
    assert.equal(held?.code, 'E_GAP');
    assertProblem(await c.get(`/v1/records/${recordId(second)}`), 404, 'E_NOT_FOUND', 'a held record is not served');
    assert.equal(assertStatus(await c.post('/v1/records', first), 201).ack.status, 'accepted');
    const log = assertStatus(await c.get(`/v1/hubs/${a.id}/log?after=${first.seq - 1}`), 200);
    assert.deepEqual(
      log.records.map((r: SignedRecord) => recordId(r)),
      [recordId(first), recordId(second)],
      'both are in the log after the release',
    );
    assert.equal(assertStatus(await c.post('/v1/records', second), 200).ack.status, 'duplicate');
    pushed.push(first, second);
  });
  await h.check('a record beyond the head with a bad signature is not held: 422 E_GAP', async () => {
    if (!aAdmitted) throw new Skip('hub A was not admitted');
    const f = a.fork();
    f.sign('need.posted', needBody(region));
    const beyond = f.sign('need.posted', needBody(region)).record;
    assertProblem(await c.post('/v1/records', { ...beyond, body: { ...beyond.body, quantity: 7 } }), st?.rejected.get('E_GAP') ?? 422, 'E_GAP');
  });
  await h.check('a record from more than 10 minutes in the future is 422 E_CLOCK_SKEW', async () => {
    if (!aAdmitted) throw new Skip('hub A was not admitted');
    const future = a.branch({ ...a.author.head, hlc: { ms: Date.now() + 3_600_000, c: 0 } }, a.keys.signing.secretKey);
    assertProblem(await c.post('/v1/records', future.sign('need.posted', needBody(region)).record), st?.rejected.get('E_CLOCK_SKEW') ?? 422, 'E_CLOCK_SKEW');
  });
  await h.check('a blocked hub: 403 E_BLOCKED alone, ack blocked in a batch; unblocked, its records are accepted', async () => {
    const b = await admitted('Conformance blocked');
    const blk = await c.post('/v1/blocks', { hub: b.id, reason: 'conformance' }, { operator: true });
    assert.ok(blk.status === 200 || blk.status === 201, `POST /v1/blocks answered ${blk.status} ${blk.text.slice(0, 200)}`);
    const r = b.sign('need.posted', needBody(region));
    assertProblem(await c.post('/v1/records', r), st?.rejected.get('E_BLOCKED') ?? 403, 'E_BLOCKED');
    const ack = assertStatus(await c.post('/v1/records', [r]), 200).acks?.[0];
    assert.equal(ack?.status, 'blocked');
    assert.equal(ack?.code, 'E_BLOCKED');
    const un = await c.request('DELETE', `/v1/blocks/${b.id}`, { operator: true });
    assert.ok(un.status === 200 || un.status === 204, `DELETE /v1/blocks/{hub} answered ${un.status}`);
    assert.equal(assertStatus(await c.post('/v1/records', r), 201).ack.status, 'accepted');
  });
  await h.check('a body that is not JSON is 400 E_JSON; a wrong content type 415 E_UNSUPPORTED_MEDIA', async () => {
    assertProblem(await c.post('/v1/records', '{"v":1,'), 400, 'E_JSON');
    assertProblem(await c.post('/v1/records', JSON.stringify(a.inception), { headers: { 'content-type': 'text/plain' } }), 415, 'E_UNSUPPORTED_MEDIA');
  });

  // ── invalid vectors ───────────────────────────────────────────────────
  h.begin('invalid vectors');
  await invalidVectorChecks(ctx, st, op);

  // ── pull ──────────────────────────────────────────────────────────────
  h.begin('pull');
  await h.check('GET /v1/heads lists each hub with its last seq', async () => {
    if (!aAdmitted) throw new Skip('hub A was not admitted');
    const heads = assertStatus(await c.get('/v1/heads'), 200).heads;
    assert.equal(heads?.[a.id], a.author.head.seq);
    assert.equal(typeof heads?.[me.hub], 'number', 'the node lists its own hub');
  });
  await h.check('GET /v1/hubs/{hub}/log pages with after, limit and next, in seq order, records that verify', async () => {
    if (!aAdmitted) throw new Skip('hub A was not admitted');
    const seen: SignedRecord[] = [];
    let after = -1;
    for (let page = 0; page < 50; page++) {
      const l = assertStatus(await c.get(`/v1/hubs/${a.id}/log?after=${after}&limit=3`), 200);
      assert.equal(l.hub, a.id);
      assert.equal(l.head, a.author.head.seq);
      assert.ok(l.records.length <= 3, 'at most limit records');
      seen.push(...l.records);
      if (l.next === null) break;
      assert.equal(l.next, l.records.at(-1)?.seq, 'next is the last seq returned');
      after = l.next;
    }
    assert.deepEqual(
      seen.map((r) => r.seq),
      Array.from({ length: a.author.head.seq + 1 }, (_, i) => i),
      'every seq from 0 to the head, once, in order',
    );
    const mine = new Map(a.records.map((r) => [recordId(r), r]));
    let key = '';
    for (const r of seen) {
      const parsed = parseRecord(r);
      const id = recordId(parsed);
      assert.ok(mine.has(id), `seq ${r.seq} is the record the suite signed`);
      if (parsed.type === 'hub.inception') key = (parsed.body as { signingKey: string }).signingKey;
      assert.ok(checkSignature(parsed, key), `seq ${r.seq} verifies`);
    }
  });
  await h.check('GET /v1/records/{id} serves a stored record; an unknown id or hub is 404 E_NOT_FOUND', async () => {
    if (!pushed[0]) throw new Skip('nothing was pushed');
    const r = assertStatus(await c.get(`/v1/records/${recordId(pushed[0])}`), 200);
    assert.equal(recordId(parseRecord(r)), recordId(pushed[0]));
    assertProblem(await c.get(`/v1/records/${'A'.repeat(43)}`), 404, 'E_NOT_FOUND');
    assertProblem(await c.get(`/v1/hubs/${'A'.repeat(43)}/log`), 404, 'E_NOT_FOUND');
  });
  await h.check('a malformed limit is 400 E_ARGUMENT', async () => {
    assertProblem(await c.get(`/v1/hubs/${me.hub}/log?limit=0`), 400, 'E_ARGUMENT', 'limit=0');
    assertProblem(await c.get(`/v1/hubs/${me.hub}/log?limit=5001`), 400, 'E_ARGUMENT', 'limit=5001');
    assertProblem(await c.get('/v1/feed?limit=abc'), 400, 'E_ARGUMENT', 'feed limit=abc');
  });

  // ── feed ──────────────────────────────────────────────────────────────
  h.begin('feed');
  await feedChecks(ctx, admitted, region);

  // ── state ─────────────────────────────────────────────────────────────
  h.begin('state');
  await h.check('GET /v1/state/hash is {stateHash, records}', async () => {
    const s = assertStatus(await c.get('/v1/state/hash'), 200);
    assert.match(s.stateHash, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(Number.isSafeInteger(s.records), 'records is an integer');
  });
  await h.check('GET /v1/state/needs holds a pushed need (base units), pages in id order with next', async () => {
    if (!aAdmitted || !op) throw new Skip(op ? 'hub A was not admitted' : noToken);
    const target = pushed.find((r) => r.type === 'need.posted');
    assert.ok(target, 'the suite pushed a need');
    const items: Wire[] = [];
    let after = '';
    for (let page = 0; page < 1000; page++) {
      const q = `/v1/state/needs?limit=1000${after ? `&after=${encodeURIComponent(after)}` : ''}`;
      const s = assertStatus(await c.get(q, { operator: true }), 200);
      assert.ok(Array.isArray(s.needs), 'needs is an array');
      assert.equal(typeof s.version, 'string');
      items.push(...s.needs);
      if (s.next === null) break;
      assert.equal(s.next, s.needs.at(-1)?.id);
      after = s.next;
    }
    const ids = items.map((n) => n.id);
    assert.deepEqual(ids, [...ids].sort(byCodeUnit), 'items in key order');
    const n = items.find((x) => x.id === recordId(target));
    assert.ok(n, 'the need is in the state');
    assert.equal(n.hub, a.id);
    assert.equal(n.quantity, 200 * 50, 'quantity in base units (quantity × unit.size)');
    const one = assertStatus(await c.get('/v1/state/needs?limit=1', { operator: true }), 200);
    assert.ok(one.needs.length <= 1, 'limit=1 gives at most one item');
    if (items.length > 1) assert.equal(one.next, one.needs[0].id);
  });
  await h.check('state answers carry ETag W/"<version>"; If-None-Match is 304', async () => {
    const s = await c.get('/v1/state/hubs?limit=1', { operator: op });
    assertStatus(s, 200);
    const etag = s.headers.get('etag');
    assert.equal(etag, `W/"${s.json.version}"`);
    const again = await c.get('/v1/state/hubs?limit=1', { operator: op, headers: { 'if-none-match': etag! } });
    assert.equal(again.status, 304);
  });
  await h.check('an unknown collection is 404 E_NOT_FOUND', async () => {
    assertProblem(await c.get('/v1/state/nothing'), 404, 'E_NOT_FOUND');
  });
  await h.check('the state hash recomputed from the served maps and clock equals version and /v1/state/hash', async () => {
    if (!op) throw new Skip(`${noToken} (anonymous readers get anonymous donors, which are not the hashed offers)`);
    // All maps must come from one version: read again if the state moved meanwhile.
    for (let attempt = 0; ; attempt++) {
      const versions = new Set<string>();
      const clocks = new Set<number>();
      const roots: Record<string, string> = {};
      for (const name of STATE_MAPS) {
        const m: Record<string, unknown> = {};
        let after = '';
        for (let page = 0; page < 10_000; page++) {
          const q = `/v1/state/${name}?limit=5000${after ? `&after=${encodeURIComponent(after)}` : ''}`;
          const s = assertStatus(await c.get(q, { operator: true }), 200, q);
          assert.ok(Array.isArray(s[name]), `${name} is an array`);
          versions.add(s.version);
          clocks.add(s.clock);
          for (const it of s[name] as Wire[]) {
            if (name === 'held' || name === 'pending') m[it.id] = it.value;
            else m[it.id] = it;
          }
          if (s.next === null) break;
          after = s.next;
        }
        // bundles enter the hash only when there is one (spec/resolution.md §7, §7.2).
        if (name !== 'bundles' || Object.keys(m).length > 0) roots[name] = mapRoot(m);
      }
      const hash = assertStatus(await c.get('/v1/state/hash', { operator: true }), 200).stateHash;
      if ((versions.size > 1 || !versions.has(hash)) && attempt < 2) continue;
      assert.equal(versions.size, 1, `one version across the pages (${[...versions].join(', ')})`);
      assert.equal(clocks.size, 1, 'one clock across the pages');
      const clock = [...clocks][0];
      assert.ok(Number.isSafeInteger(clock), `clock is the record clock in ms (${clock})`);
      const recomputed = digest({ v: 1, clock, ...roots });
      assert.equal(recomputed, [...versions][0], 'the hash of the served maps is the pages’ version (spec/resolution.md §7)');
      assert.equal(recomputed, hash, 'the hash of the served maps is GET /v1/state/hash');
      return;
    }
  });

  // ── sealed parts ──────────────────────────────────────────────────────
  h.begin('sealed');
  await sealedChecks(ctx, me, admitted, region);

  // ── rotation and recovery ─────────────────────────────────────────────
  h.begin('rotation');
  await rotationChecks(ctx, admitted, region, st);

  // ── forks ─────────────────────────────────────────────────────────────
  h.begin('fork');
  await forkChecks(ctx, admitted, region, st);

  // ── state schemas (last: the state then holds what every group pushed) ───
  h.begin('state schemas');
  await stateSchemaChecks(ctx);
}

/** Every page of every state collection and /v1/state/hash against spec/schemas/state/ (spec/node.md §6, spec/resolution.md §7). */
async function stateSchemaChecks(ctx: SuiteContext): Promise<void> {
  const { client: c, h, specDir } = ctx;
  const op = !!c.operatorToken;
  const validate = stateSchemas(specDir);
  for (const name of STATE_MAPS) {
    await h.check(`every item of GET /v1/state/${name} validates against spec/schemas/state/page.${name}.json`, async () => {
      const errors: string[] = [];
      let after = '';
      let items = 0;
      for (let page = 0; page < 10_000; page++) {
        const q = `/v1/state/${name}?limit=5000${after ? `&after=${encodeURIComponent(after)}` : ''}`;
        const a = await c.get(q, { operator: op });
        if (!op && (a.status === 401 || a.status === 403)) throw new Skip('the state is not public on this node: needs --operator-token');
        const s = assertStatus(a, 200, q);
        errors.push(...validate(`page.${name}.json`, s));
        items += Array.isArray(s[name]) ? s[name].length : 0;
        if (errors.length > 0 || typeof s.next !== 'string') break;
        after = s.next;
      }
      assert.deepEqual(errors, [], `${items} items read`);
    });
  }
  await h.check('GET /v1/state/hash validates against spec/schemas/state/hash.json', async () => {
    assert.deepEqual(validate('hash.json', assertStatus(await c.get('/v1/state/hash', { operator: op }), 200)), []);
  });
}

/** The level and region the suite's hubs ask for: one level below the node's hub, inside its region. */
function childStanding(me: NodeInfo): { ok: true; level: string; region: string } | { ok: false; why: string; level: string; region: string } {
  const rank = LEVELS.indexOf((me.level ?? 'national') as (typeof LEVELS)[number]);
  if (rank < 0 || rank >= 3) return { ok: false, why: `the node's hub is of level ${me.level}: it cannot admit a county`, level: 'county', region: '420902' };
  // A national hub admits in any region; otherwise inside its own region.
  const region = rank === 0 || !me.region ? '420902' : me.region;
  return { ok: true, level: 'county', region };
}

const STATE_MAPS = ['hubs', 'needs', 'offers', 'allocations', 'shipments', 'conflicts', 'held', 'pending', 'bundles'] as const;

/** R(map) of spec/resolution.md §7: leaves digest(value), buckets by the key's first two characters, the root over buckets. */
function mapRoot(m: Record<string, unknown>): string {
  const buckets: Record<string, Record<string, string>> = {};
  for (const [k, v] of Object.entries(m)) {
    const p = k.slice(0, 2);
    buckets[p] ??= {};
    buckets[p][k] = digest(v);
  }
  const root: Record<string, string> = {};
  for (const [p, b] of Object.entries(buckets)) root[p] = digest(b);
  return digest(root);
}

function keysInForce(records: SignedRecord[]): { signingKey: string; encryptionKey: string } {
  let k = { signingKey: '', encryptionKey: '' };
  for (const r of records) {
    if (r.type === 'hub.inception' || r.type === 'hub.keys.rotated') {
      const b = r.body as { signingKey: string; encryptionKey: string };
      k = { signingKey: b.signingKey, encryptionKey: b.encryptionKey };
    }
  }
  return k;
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether an answer is the verdict `code` of the table: held (202 ack) or refused (problem document). */
function assertVerdict(a: Answer, code: string, held: boolean, st: StatusTable | undefined, what: string): void {
  if (held) {
    const ack = assertStatus(a, st?.heldStatus ?? 202, what).ack;
    assert.equal(ack?.status, 'held', `${what}: ack status`);
    assert.equal(ack?.code, code, `${what}: ack code`);
    return;
  }
  const status = st?.rejected.get(code);
  assert.ok(status, `${code} is in the table of spec/errors.md §2.1`);
  assertProblem(a, status, code, what);
}

async function invalidVectorChecks(ctx: SuiteContext, st: StatusTable | undefined, op: boolean): Promise<void> {
  const { client: c, h, specDir } = ctx;
  const vectors = invalidVectors(specDir);
  const hubOf = (v: InvalidVector): string | undefined => {
    try {
      const r = JSON.parse(v.record);
      return typeof r?.hub === 'string' ? r.hub : undefined;
    } catch {
      return undefined;
    }
  };
  // The vectors assume a verifier holding exactly their context. On one node
  // the chains only grow, so they run in the order of the author's context
  // head, and forks (which leave a proof behind) last.
  // A record that does not parse is about the hub of its context.
  const hubKey = (v: InvalidVector): string | undefined => hubOf(v) ?? v.context.at(-1)?.hub;
  const ctxHead = (v: InvalidVector): number => Math.max(-1, ...v.context.filter((r) => r.hub === hubKey(v)).map((r) => r.seq as number));
  const order = [...vectors].sort((x, y) => Number(x.error === 'E_FORK') - Number(y.error === 'E_FORK') || ctxHead(x) - ctxHead(y) || x.index - y.index);
  // Hubs of the vectors' contexts: admitted by the node's operator, so their records are stored and checked.
  const vectorHubs = new Map<string, { level: string; region: string }>();
  for (const v of recordVectors(specDir)) {
    const r = v.record;
    if (r.type === 'hub.profile') vectorHubs.set(r.hub, { level: r.body.level, region: r.body.region });
  }
  let fresh = true;
  let contextOk = op;
  let why = op ? '' : 'vectors with a context need --operator-token (the suite admits their hubs)';
  await h.check(`the vectors' hubs are admitted by the node's operator (${vectorHubs.size} hubs)`, async () => {
    const heads = assertStatus(await c.get('/v1/heads'), 200).heads ?? {};
    if ([...vectorHubs.keys()].some((k) => k in heads)) {
      fresh = false;
      contextOk = false;
      why = 'the node already holds the vectors’ hubs: run against a fresh node';
      throw new Skip(why);
    }
    if (!op) throw new Skip(why);
    for (const [hub, s] of vectorHubs) {
      const a = await c.post('/v1/admissions', { child: hub, ...s }, { operator: true });
      if (a.status !== 201) {
        contextOk = false;
        why = `the node's hub could not admit the vectors' hubs (province 420000, city 420900, county 420902): run against a root of level national`;
      }
      assertStatus(a, 201, `admission of vector hub ${hub} (${s.level} ${s.region})`);
    }
  });
  const stored = new Set<string>();
  for (const v of order) {
    const name = `#${v.index} ${v.error}: ${v.comment}`;
    if (!h.selected(name)) continue;
    if (v.context.length > 0 && !contextOk) {
      h.skip(name, why);
      continue;
    }
    if (!fresh && v.context.length === 0 && ['E_GAP', 'E_FORK', 'E_CHAIN'].includes(v.error)) {
      h.skip(name, why);
      continue;
    }
    await h.check(name, async () => {
      const fresh = v.context.filter((r) => !stored.has(r.id ?? recordId(r as SignedRecord)));
      if (fresh.length) {
        const r = assertStatus(await c.post('/v1/records', fresh), 200, 'context push');
        r.acks.forEach((k: Wire, i: number) => {
          assert.ok(['accepted', 'duplicate'].includes(k.status), `context record ${i} acked ${k.status} ${k.code ?? ''} ${k.message ?? ''}`);
        });
        for (const x of fresh) stored.add(recordId(x as SignedRecord));
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(v.record);
      } catch {
        parsed = undefined;
      }
      const hub = hubOf(v);
      if (Array.isArray(parsed)) {
        // A bare array is a batch (spec/node.md §3): send it as the one element of a batch.
        const r = assertStatus(await c.post('/v1/records', `[${v.record}]`), 200, 'batch of one');
        assert.equal(r.acks?.[0]?.status, 'rejected');
        assert.equal(r.acks?.[0]?.code, v.error);
        return;
      }
      // E_GAP is held when the node holds the author's chain (the context has its records), else refused.
      const held = st?.held.has(v.error) === true && v.error === 'E_GAP' && v.context.some((r) => r.hub === hub);
      const a = await c.post('/v1/records', v.record);
      assertVerdict(a, v.error, held, st, 'pushed alone');
      if (v.error === 'E_FORK') {
        const p = a.json;
        assert.equal(p.hub, hub, 'E_FORK extension member hub');
        assert.equal(p.seq, JSON.parse(v.record).seq, 'E_FORK extension member seq');
        assert.ok(Array.isArray(p.ids) && p.ids.length === 2, 'E_FORK extension member ids: [held, new]');
        assert.equal(p.ids[1], recordId(parseRecord(JSON.parse(v.record))), 'ids[1] is the id of the record sent');
        assert.equal(typeof p.detail, 'string', 'detail is a string (RFC 9457)');
      }
      if (v.error !== 'E_FORK' && !held) {
        // The same record as the one element of a batch: a record refused inside a batch is an ack in a 200;
        // a body that is not JSON/I-JSON is refused as a whole (spec/errors.md §2.1).
        const b = await c.post('/v1/records', `[${v.record}]`);
        // Whether a number whose value is an unsafe integer (1e20) makes the whole body "not I-JSON" or
        // only its record is not said (spec/errors.md §2.1, spec/encoding.md §2.3): either answer is taken.
        const either = v.error === 'E_IJSON' && v.tags.includes('number') && b.status === 200;
        if ((v.error === 'E_JSON' || v.error === 'E_IJSON') && !either) assertProblem(b, 400, v.error, 'in a batch');
        else {
          const ack = assertStatus(b, 200, 'in a batch').acks?.[0];
          assert.equal(ack?.status, 'rejected', 'in a batch: ack status');
          assert.equal(ack?.code, v.error, 'in a batch: ack code');
        }
      }
      if (held && hub) {
        // Keep the chain as the next vectors expect it: drop what was held (spec/node.md §3.3).
        const d = await c.request('DELETE', `/v1/held?hub=${encodeURIComponent(hub)}`, { operator: true });
        assertStatus(d, 200, 'DELETE /v1/held');
      }
    });
  }
}

async function feedChecks(ctx: SuiteContext, admitted: (name: string) => Promise<SuiteHub>, region: string): Promise<void> {
  const { client: c, h } = ctx;
  let f: SuiteHub | undefined;
  const ords = new Map<string, number>();
  let before = 0;
  await h.check('GET /v1/feed pages in ingest order with cursor and head', async () => {
    before = assertStatus(await c.get('/v1/feed?limit=1'), 200).head;
    f = await admitted('Conformance feed');
    const batch = [f.sign('need.posted', needBody(region)), f.sign('need.posted', needBody(region)), f.sign('need.posted', needBody(region))];
    const r = assertStatus(await c.post('/v1/records', batch), 200);
    batch.forEach((b, i) => {
      ords.set(recordId(b), r.acks[i].ord);
    });
    const seen: { ord: number; record: SignedRecord }[] = [];
    let after = before;
    for (let page = 0; page < 1000; page++) {
      const p = assertStatus(await c.get(`/v1/feed?after=${after}&limit=2`), 200);
      assert.ok(p.records.length <= 2, 'at most limit records');
      seen.push(...p.records);
      assert.ok(p.cursor >= after, 'the cursor moves forward');
      if (p.cursor >= p.head) break;
      after = p.cursor;
    }
    const o = seen.map((s) => s.ord);
    assert.deepEqual(
      o,
      [...o].sort((x, y) => x - y),
      'ords increase',
    );
    assert.equal(new Set(o).size, o.length, 'each ord once');
    for (const [id, ord] of ords) {
      const e = seen.find((s) => s.ord === ord);
      assert.ok(e, `ord ${ord} is in the feed`);
      assert.equal(recordId(parseRecord(e.record)), id, `ord ${ord} is the acked record`);
    }
  });
  await h.check('feed filters: types=need.posted serves only needs; an unknown type is 400 E_ARGUMENT', async () => {
    if (!f) throw new Skip('the suite pushed no need (no feed hub)');
    const p = assertStatus(await c.get(`/v1/feed?after=${before}&types=need.posted`), 200);
    assert.ok(p.records.length > 0, 'the suite’s needs are in the feed');
    for (const e of p.records) assert.equal(e.record.type, 'need.posted');
    assertProblem(await c.get('/v1/feed?types=need.bogus'), 400, 'E_ARGUMENT');
  });
  await h.check('the live feed (SSE) sends ready, then records with id = ord; Last-Event-ID resumes exactly once', async () => {
    if (!f) throw new Skip('no feed hub');
    const want = [...ords.entries()].sort((x, y) => x[1] - y[1]);
    const s1 = await c.events(`/v1/feed/live?after=${before}`);
    let lastId = '';
    try {
      assert.equal(s1.response.status, 200);
      const ready = await s1.next();
      assert.equal(ready?.event, 'ready');
      assert.ok(Number.isSafeInteger(JSON.parse(ready!.data).cursor), 'ready names the cursor');
      // Read until the second of the suite's records, then drop the connection.
      const events = await s1.until((e) => e.event === 'record' && e.id === String(want[1]![1]));
      for (const e of events.filter((x) => x.event === 'record')) {
        const expected = recordIdAtOrd(want, Number(e.id));
        if (expected) assert.equal(recordId(parseRecord(JSON.parse(e.data))), expected, `the record event with id ${e.id} is the record acked with that ord`);
      }
      lastId = want[1]![1].toString();
    } finally {
      s1.close();
    }
    const extra = f.sign('need.posted', needBody(region));
    const ack = assertStatus(await c.post('/v1/records', extra), 201).ack;
    const s2 = await c.events(`/v1/feed/live?after=${before}`, { 'last-event-id': lastId });
    try {
      const events = await s2.until((e) => e.event === 'record' && e.id === String(ack.ord));
      const recs = events.filter((e) => e.event === 'record');
      for (const e of recs) assert.ok(Number(e.id) > Number(lastId), `after Last-Event-ID ${lastId}, got ord ${e.id}`);
      const ids = recs.map((e) => Number(e.id));
      assert.equal(new Set(ids).size, ids.length, 'each ord once');
      assert.ok(ids.includes(want[2]![1]), 'the third record, sent before the reconnect, is sent after it');
      assert.ok(ids.includes(ack.ord), 'the record pushed while disconnected is sent');
    } finally {
      s2.close();
    }
  });
}

function recordIdAtOrd(want: [string, number][], ord: number): string | undefined {
  return want.find((w) => w[1] === ord)?.[0];
}

async function sealedChecks(ctx: SuiteContext, me: NodeInfo, admitted: (name: string) => Promise<SuiteHub>, region: string): Promise<void> {
  const { client: c, h } = ctx;
  let s: { author: SuiteHub; other: SuiteHub; toNode: SignedRecord; notToNode: SignedRecord; payload: JsonValue; ord: number } | undefined;
  await h.check('a record with a sealed part is accepted (sealed to a suite hub and to the node)', async () => {
    assert.ok(me.sealedKey, 'the node published its sealed key (JWKS)');
    const author = await admitted('Conformance sealed');
    const other = await admitted('Conformance outsider');
    const payload = { contact: { name: '张医生', phone: '13800000000' }, note: 'conformance' };
    const mine = { hub: author.id, encryptionKey: publicKey(author.keys.encryption.publicKey) };
    const a = seal(payload, [mine, { hub: me.hub, encryptionKey: me.sealedKey! }]);
    const toNode = author.sign('need.posted', needBody(region), a);
    const b = seal(payload, [mine]);
    const notToNode = author.sign('need.posted', needBody(region), b);
    const r = assertStatus(await c.post('/v1/records', [toNode, notToNode]), 200);
    assert.deepEqual(
      r.acks.map((k: Wire) => k.status),
      ['accepted', 'accepted'],
    );
    s = { author, other, toNode, notToNode, payload, ord: r.acks[0].ord };
  });
  await h.check('anonymous readers get records without sealed, sealedHash kept (record, log, feed, live feed)', async () => {
    if (!s) throw new Skip('no sealed record');
    const id = recordId(s.toNode);
    const one = assertStatus(await c.get(`/v1/records/${id}`), 200);
    assert.equal(one.sealed, undefined, 'GET /v1/records/{id} strips sealed');
    assert.equal(one.sealedHash, s.toNode.sealedHash);
    assert.equal(recordId(parseRecord(one)), id, 'the stripped record keeps its id');
    const log = assertStatus(await c.get(`/v1/hubs/${s.author.id}/log`), 200);
    for (const r of log.records) assert.equal(r.sealed, undefined, 'the log strips sealed');
    const feed = assertStatus(await c.get('/v1/feed?types=need.posted&limit=5000&after=0'), 200);
    for (const e of feed.records) assert.equal(e.record.sealed, undefined, 'the feed strips sealed');
    const live = await c.events(`/v1/feed/live?after=${s.ord - 1}`);
    try {
      const events = await live.until((e) => e.event === 'record' && e.id === String(s!.ord));
      const rec = JSON.parse(events.at(-1)!.data);
      assert.equal(rec.sealed, undefined, 'the live feed strips sealed');
      assert.equal(rec.sealedHash, s.toNode.sealedHash);
    } finally {
      live.close();
    }
  });
  await h.check('the operator reads the sealed part; only the named hubs open it', async () => {
    if (!s) throw new Skip('no sealed record');
    if (!ctx.client.operatorToken) throw new Skip('needs --operator-token');
    const r = parseRecord(assertStatus(await c.get(`/v1/records/${recordId(s.notToNode)}`, { operator: true }), 200));
    assert.ok(r.sealed, 'the operator gets sealed');
    assert.deepEqual(openSealedPart(r, s.author.id, s.author.keys.encryption), s.payload, 'the named hub opens it');
    assert.throws(() => openSealedPart(r, s!.other.id, s!.other.keys.encryption), /not addressed/, 'a hub not named cannot open it');
    const outsider = encryptionKeyPairFromSeed(fromHex('11'.repeat(32)));
    assert.throws(() => openSealedPart(r, s!.author.id, outsider), /cannot open/, 'another key under a named hub id does not open it');
  });
  await h.check('GET /v1/records/{id}/private opens a part sealed to the node, 422 E_SEALED for one that is not', async () => {
    if (!s) throw new Skip('no sealed record');
    if (!ctx.client.operatorToken) throw new Skip('needs --operator-token');
    const p = assertStatus(await c.get(`/v1/records/${recordId(s.toNode)}/private`, { operator: true }), 200);
    assert.deepEqual(p.private, s.payload);
    assert.deepEqual(p.to, [s.author.id, me.hub]);
    assertProblem(await c.get(`/v1/records/${recordId(s.notToNode)}/private`, { operator: true }), 422, 'E_SEALED');
    assertProblem(await c.get(`/v1/records/${recordId(s.toNode)}/private`), 401, 'E_AUTH', 'anonymous');
  });
}

async function rotationChecks(ctx: SuiteContext, admitted: (name: string) => Promise<SuiteHub>, region: string, st: StatusTable | undefined): Promise<void> {
  const { client: c, h } = ctx;
  await h.check('an ordinary rotation: the next record verifies only under the new key (old key: 422 E_SIG)', async () => {
    const x = await admitted('Conformance rotation');
    assert.equal(assertStatus(await c.post('/v1/records', x.sign('need.posted', needBody(region))), 201).ack.status, 'accepted');
    const { record: rot, old } = x.rotate();
    assert.equal(assertStatus(await c.post('/v1/records', rot), 201).ack.status, 'accepted', 'the rotation');
    const stale = x.branch(x.author.head, old).sign('need.posted', needBody(region)).record;
    assertProblem(await c.post('/v1/records', stale), st?.rejected.get('E_SIG') ?? 422, 'E_SIG', 'signed with the rotated-away key');
    assert.equal(assertStatus(await c.post('/v1/records', x.sign('need.posted', needBody(region))), 201).ack.status, 'accepted', 'signed with the new key');
  });
  let rv: { x: SuiteHub; r1: SignedRecord; r2: SignedRecord; r3: SignedRecord; rec: string; oldKey: Uint8Array } | undefined;
  await h.check('a recovery (spec/keys.md §5) cuts the records after its branch point and brings new keys', async () => {
    const x = await admitted('Conformance recovery');
    const r1 = x.sign('need.posted', needBody(region));
    const r2 = x.sign('need.posted', needBody(region));
    const r3 = x.sign('need.posted', needBody(region));
    assertStatus(await c.post('/v1/records', [r1, r2, r3]), 200);
    const commitment = recoveryCommitment(x.hub.keys.recovery.publicKey);
    const rec = signRecovery({ hub: x.id, recoverySeed: x.hub.seeds.recovery, commitment, seq: r2.seq, prev: recordId(r1), hlc: x.now() });
    assert.equal(assertStatus(await c.post('/v1/records', rec.record), st?.accepted ?? 201).ack.status, 'accepted', 'the recovery');
    const log = assertStatus(await c.get(`/v1/hubs/${x.id}/log`), 200);
    assert.equal(log.head, r2.seq, 'the head is the recovery');
    assert.deepEqual(
      log.records.map((r: SignedRecord) => recordId(r)),
      [recordId(x.inception), recordId(x.records[1]!), recordId(r1), rec.id],
    );
    const oldKey = x.keys.signing.secretKey;
    x.adoptRecovery(rec.record, rec.keys);
    const stale = x.branch(x.author.head, oldKey).sign('need.posted', needBody(region)).record;
    assertProblem(await c.post('/v1/records', stale), st?.rejected.get('E_SIG') ?? 422, 'E_SIG', 'signed with the key the recovery replaced');
    assert.equal(
      assertStatus(await c.post('/v1/records', x.sign('need.posted', needBody(region))), 201).ack.status,
      'accepted',
      'signed with the recovered key',
    );
    rv = { x, r1, r2, r3, rec: rec.id, oldKey };
  });
  await h.check('after a recovery, another record at its seq signed with the old key is 409 E_FORK', async () => {
    if (!rv) throw new Skip('no recovery');
    const thief = rv.x.branch({ seq: rv.r1.seq, id: recordId(rv.r1), hlc: rv.r1.hlc }, rv.oldKey).sign('need.posted', needBody(region, { quantity: 5 })).record;
    const p = assertProblem(await c.post('/v1/records', thief), st?.rejected.get('E_FORK') ?? 409, 'E_FORK');
    assert.equal(p.hub, rv.x.id);
    assert.equal(p.seq, rv.r2.seq);
    assert.deepEqual(p.ids, [rv.rec, recordId(thief)]);
  });
  await h.check('a record the recovery cut off at its own seq, which the node stores, sent again is a duplicate (spec/keys.md §5)', async () => {
    if (!rv) throw new Skip('no recovery');
    const ack = assertStatus(await c.post('/v1/records', rv.r2), st?.duplicate ?? 200).ack;
    assert.equal(ack?.status, 'duplicate');
  });
  await h.check('a record the recovery cut off after its seq, which the node stores, sent again is a duplicate (spec/keys.md §5)', async () => {
    if (!rv) throw new Skip('no recovery');
    const ack = assertStatus(await c.post('/v1/records', rv.r3), st?.duplicate ?? 200).ack;
    assert.equal(ack?.status, 'duplicate');
  });
  await h.check('a record of the cut-off branch the node never held, after the recovery seq, is 422 E_SIG (spec/keys.md §5)', async () => {
    if (!rv) throw new Skip('no recovery');
    const next = rv.x.branch({ seq: rv.r3.seq, id: recordId(rv.r3), hlc: rv.r3.hlc }, rv.oldKey).sign('need.posted', needBody(region)).record;
    const beyondHead = next.seq > rv.x.author.head.seq + 1;
    // Beyond the node's head it is E_GAP (not held: its signature fails with the keys at the head); within it, E_SIG.
    const other = rv.x.branch({ seq: rv.r2.seq, id: recordId(rv.r2), hlc: rv.r2.hlc }, rv.oldKey).sign('need.posted', needBody(region, { quantity: 9 })).record;
    assertProblem(await c.post('/v1/records', other), st?.rejected.get('E_SIG') ?? 422, 'E_SIG', `seq ${other.seq}, after the recovery's`);
    assertProblem(await c.post('/v1/records', next), 422, beyondHead ? 'E_GAP' : 'E_SIG', `seq ${next.seq}`);
  });
  await h.check('the resolved hub is active and names the recovery', async () => {
    if (!rv) throw new Skip('no recovery');
    const hub = await hubState(c, rv.x.id);
    assert.equal(hub?.recovery, rv.rec, 'hubs[*].recovery');
    assert.equal(hub?.status, 'active');
  });
  await h.check('a recovery signed with a key that does not match the commitment is 422 E_SIG', async () => {
    const x = await admitted('Conformance false recovery');
    const r1 = x.sign('need.posted', needBody(region));
    assertStatus(await c.post('/v1/records', r1), 201);
    const thief = keyPairsFromSeeds({ signing: fromHex('01'.repeat(32)), encryption: fromHex('02'.repeat(32)), recovery: fromHex('03'.repeat(32)) });
    const rec = signRecovery({
      hub: x.id,
      recoverySeed: fromHex('03'.repeat(32)),
      commitment: recoveryCommitment(thief.recovery.publicKey),
      seq: r1.seq + 1,
      prev: recordId(r1),
      hlc: x.now(),
    });
    assertProblem(await c.post('/v1/records', rec.record), 422, 'E_SIG');
  });
}

async function hubState(c: Client, hub: string): Promise<Wire> {
  let after = '';
  for (let page = 0; page < 1000; page++) {
    const s = assertStatus(await c.get(`/v1/state/hubs?limit=5000${after ? `&after=${encodeURIComponent(after)}` : ''}`, { operator: !!c.operatorToken }), 200);
    const x = s.hubs.find((y: Wire) => y.id === hub);
    if (x) return x;
    if (s.next === null) return undefined;
    after = s.next;
  }
  return undefined;
}

async function forkChecks(ctx: SuiteContext, admitted: (name: string) => Promise<SuiteHub>, region: string, st: StatusTable | undefined): Promise<void> {
  const { client: c, h } = ctx;
  let fork: { x: SuiteHub; held: SignedRecord; second: SignedRecord } | undefined;
  await h.check('a second validly signed record at a taken seq is 409 E_FORK with hub, seq and ids [held, new]', async () => {
    const x = await admitted('Conformance fork');
    const other = x.fork().sign('need.posted', needBody(region, { quantity: 999 })).record;
    const held = x.sign('need.posted', needBody(region));
    assertStatus(await c.post('/v1/records', held), 201);
    const p = assertProblem(await c.post('/v1/records', other), st?.rejected.get('E_FORK') ?? 409, 'E_FORK');
    assert.equal(typeof p.detail, 'string', 'detail is a string (RFC 9457)');
    assert.equal(p.hub, x.id);
    assert.equal(p.seq, held.seq);
    assert.deepEqual(p.ids, [recordId(held), recordId(other)]);
    fork = { x, held, second: other };
  });
  await h.check('in a batch, the E_FORK ack carries hub, seq and ids too', async () => {
    if (!fork) throw new Skip('no fork');
    const third = fork.x.branch({ seq: 1, id: recordId(fork.x.records[1]!), hlc: fork.x.records[1]!.hlc }, fork.x.keys.signing.secretKey);
    const r3 = third.sign('need.posted', needBody(region, { quantity: 3 })).record;
    const r = assertStatus(await c.post('/v1/records', [r3]), 200);
    const ack = r.acks[0];
    assert.equal(ack.status, 'rejected');
    assert.equal(ack.code, 'E_FORK');
    assert.equal(ack.hub, fork.x.id);
    assert.equal(ack.seq, 2);
    assert.deepEqual(ack.ids, [recordId(fork.held), recordId(r3)]);
  });
  await h.check('the fork reaches the state: the hub is forked, a conflict <hub>/fork/<seq> lists both ids', async () => {
    if (!fork) throw new Skip('no fork');
    const hub = await hubState(c, fork.x.id);
    assert.equal(hub?.status, 'forked');
    const id = `${fork.x.id}/fork/${fork.held.seq}`;
    let conflict: Wire;
    let after = '';
    for (let page = 0; page < 1000 && !conflict; page++) {
      const s = assertStatus(
        await c.get(`/v1/state/conflicts?limit=5000${after ? `&after=${encodeURIComponent(after)}` : ''}`, { operator: !!c.operatorToken }),
        200,
      );
      conflict = s.conflicts.find((x: Wire) => x.id === id);
      if (s.next === null) break;
      after = s.next;
    }
    assert.ok(conflict, `conflict ${id}`);
    assert.equal(conflict.rule, 'fork');
    for (const r of [fork.held, fork.second]) assert.ok(conflict.records.includes(recordId(r)), `the conflict lists ${recordId(r)}`);
  });
}

function publicKey(b: Uint8Array): string {
  return Buffer.from(b).toString('base64url');
}
