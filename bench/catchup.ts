// `pnpm bench catchup`: a fresh node pulls 100,000 records from a peer (heads exchange, then
// each hub's missing range in pages), against the bare single-core Ed25519 rate in the same run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assumeVerified, ready, recordId } from '@shuniu/protocol';
import { initDataDir } from '../nodes/hub/src/node.js';
import { admitAll, bareVerifyRate, openNode, rootNode, signChains } from './hubnet.js';
import { progress, quick, report } from './report.js';

await ready();
const HUBS = 10;
const PER_HUB = quick ? 1000 : 10_000;

progress(`signing ${HUBS * PER_HUB} records`);
const chains = signChains(HUBS, PER_HUB, (n) => progress(`  signed ${n}`));
const verify = bareVerifyRate(chains, quick ? 2000 : 10_000);
progress(`bare Ed25519 verify, one core: ${verify.toFixed(0)}/s`);

// The source peer is seeded straight into its store (setup, not measured).
const source = await rootNode('源省枢纽');
await admitAll(source.node, chains);
source.node.store.transaction(() => {
  for (const c of chains) {
    const inc = c.records[0] as { body: { signingKey: string; encryptionKey: string; recoveryCommitment: string } };
    const keys = { signingKey: inc.body.signingKey, encryptionKey: inc.body.encryptionKey, recoveryCommitment: inc.body.recoveryCommitment };
    for (const r of c.records) source.node.store.appendRecord(assumeVerified(r, recordId(r)), keys, { source: 'bench', recovery: false, now: Date.now() });
  }
});
progress(`source holds ${source.node.store.maxOrd()} records`);

const dir = mkdtempSync(join(tmpdir(), 'shuniu-bench-'));
await initDataDir({ dir, name: '新节点', level: 'city', region: '420900', port: 0, follow: [source.url] });
const target = await openNode(dir);
const t0 = performance.now();
const { accepted } = await target.node.federation.pullFrom(source.url);
const seconds = (performance.now() - t0) / 1000;
const total = HUBS * PER_HUB;
const held = target.node.store.heads();
const got = chains.reduce((n, c) => n + (held[c.id] ?? -1) + 1, 0);
if (got !== total) throw new Error(`caught up ${got} of ${total} records`);
const rate = accepted / seconds;
progress(`pulled ${accepted} records in ${seconds.toFixed(2)} s: ${rate.toFixed(0)}/s`);
await target.cleanup();
await source.cleanup();
rmSync(dir, { recursive: true, force: true });
report('catchup', { catchup_per_s: Math.round(rate), verify_per_s_1core: Math.round(verify), ratio: Number((rate / verify).toFixed(3)) });
