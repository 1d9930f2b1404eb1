import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { isShuniuError, MemoryChains, parseRecord, ready, type VerifyResult } from '@shuniu/protocol';
import { args } from './io.js';

/**
 * `shuniu verify [FILE ...]`: records as JSON lines (stdin without files).
 * One output line per record, in input order: `ok <id>` (`ok <id> duplicate`
 * for a repeat) or `error <code> <message>`. Exit status 1 if any failed.
 * Records are checked as one stream: a hub's inception must come before its
 * other records, exactly as a node would need it.
 */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = args({ args: argv, options: { help: { type: 'boolean' } }, allowPositionals: true });
  if (values.help) {
    process.stdout.write('usage: shuniu verify [FILE ...]   records as JSON lines; stdin without files\n');
    return 0;
  }
  await ready();
  const chains = new MemoryChains();
  let failed = 0;
  const sources = positionals.length > 0 ? positionals : ['-'];
  for (const src of sources) {
    const input = src === '-' ? process.stdin : createReadStream(src);
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    try {
      for await (const line of lines) {
        if (line.trim() === '') continue;
        const out = verifyLine(chains, line);
        if (out.startsWith('error')) failed++;
        process.stdout.write(`${out}\n`);
      }
    } catch (e) {
      process.stdout.write(`error E_ARGUMENT cannot read ${src}: ${(e as Error).message}\n`);
      failed++;
    }
  }
  return failed > 0 ? 1 : 0;
}

/** Verifies one JSON line against the chains seen so far and formats the answer. */
export function verifyLine(chains: MemoryChains, line: string): string {
  let res: VerifyResult;
  try {
    res = chains.add(parseRecord(line));
  } catch (e) {
    if (isShuniuError(e)) return `error ${e.code} ${oneLine(e.message)}`;
    throw e;
  }
  switch (res.kind) {
    case 'valid':
      return `ok ${res.verified.id}`;
    case 'duplicate':
      return `ok ${res.id} duplicate`;
    default:
      return `error ${res.error.code} ${oneLine(res.error.message)}`;
  }
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ');
}
