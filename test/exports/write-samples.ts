// Writes docs/samples/ from the export tests' scenario (a real node on loopback):
//   npx tsx --conditions=@shuniu/source test/exports/write-samples.ts
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { scenario } from './scenario.js';

const out = (f: string) => fileURLToPath(new URL(`../../docs/samples/${f}`, import.meta.url));
const s = await scenario();
try {
  const get = async (path: string) => (await fetch(`${s.p.url}${path}`, { headers: { authorization: `Bearer ${s.p.token}` } })).text();
  for (const kind of ['needs', 'offers', 'allocations', 'deliveries']) writeFileSync(out(`hxl-${kind}.csv`), await get(`/v1/export/hxl/${kind}`));
  const epcis = await fetch(`${s.p.url}/v1/export/epcis`, { headers: { authorization: `Bearer ${s.p.token}` } });
  if (epcis.ok) writeFileSync(out('epcis.jsonld'), `${JSON.stringify(await epcis.json(), null, 2)}\n`);
} finally {
  await s.p.node.close();
}
