// `pnpm bench <name> [--quick]`: runs bench/<name>.ts (see ../shared/bench.md conventions in bench/README.md).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const name = process.argv[2];
if (!name || !/^[a-z]+$/.test(name) || !existsSync(join(here, `${name}.ts`))) {
  console.error('usage: pnpm bench <resolve|ingest|catchup|match|network|hostile|held|sim|national> [--quick]');
  process.exit(2);
}
await import(join(here, `${name}.ts`));
