// `pnpm bench ingest`: verified records/s through POST /v1/records into SQLite, against
// the bare single-core Ed25519 verification rate measured in the same run.
import { ready, recordJson } from '@shuniu/protocol';
import { admitAll, bareVerifyRate, rootNode, signChains } from './hubnet.js';
import { progress, quick, report } from './report.js';

await ready();
const HUBS = 8;
const PER_HUB = quick ? 500 : 2500;
const BATCH = 500;
const PARALLEL = 4;

progress(`signing ${HUBS * PER_HUB} records`);
const chains = signChains(HUBS, PER_HUB, (n) => progress(`  signed ${n}`));
const verify = bareVerifyRate(chains, quick ? 2000 : 10_000);
progress(`bare Ed25519 verify, one core: ${verify.toFixed(0)}/s`);

const { node, url, cleanup } = await rootNode('基准省枢纽');
await admitAll(node, chains);

// Each hub's chain goes in order, in batches; PARALLEL hubs at a time, as several peers would push.
const bodies = chains.map((c) => {
  const out: string[] = [];
  for (let i = 0; i < c.records.length; i += BATCH)
    out.push(
      `[${c.records
        .slice(i, i + BATCH)
        .map(recordJson)
        .join(',')}]`,
    );
  return out;
});
let accepted = 0;
const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: PARALLEL }, async () => {
    for (let h = next++; h < bodies.length; h = next++) {
      for (const body of bodies[h] as string[]) {
        const res = await fetch(`${url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const j = (await res.json()) as { summary: { accepted: number } };
        accepted += j.summary.accepted;
      }
    }
  }),
);
const seconds = (performance.now() - t0) / 1000;
const total = HUBS * PER_HUB;
if (accepted !== total) throw new Error(`accepted ${accepted} of ${total}`);
const ingest = total / seconds;
progress(`ingested ${total} in ${seconds.toFixed(2)} s: ${ingest.toFixed(0)}/s`);
await cleanup();
report('ingest', { ingest_per_s: Math.round(ingest), verify_per_s_1core: Math.round(verify), ratio: Number((ingest / verify).toFixed(3)) });
