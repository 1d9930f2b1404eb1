import { closeSync, openSync, writeSync } from 'node:fs';
import { createHub, formatTimestamp, ready, recordJson, ShuniuError, timestampMs } from '@shuniu/protocol';
import { args } from './io.js';

/** `shuniu keygen --out FILE`: a new hub identity. The key file is created with mode 0600 and never overwritten. */
export async function run(argv: string[]): Promise<number> {
  const { values } = args({ args: argv, options: { out: { type: 'string' }, created: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help || !values.out) {
    process.stdout.write('usage: shuniu keygen --out FILE [--created RFC3339]\nWrites the key file (mode 0600) and prints the signed hub.inception record.\n');
    return values.help ? 0 : 2;
  }
  await ready();
  const created = values.created ?? formatTimestamp(Date.now());
  const ms = timestampMs(created);
  if (!Number.isFinite(ms)) throw new ShuniuError('E_ARGUMENT', `--created: not an RFC 3339 timestamp: ${created}`);
  const hub = createHub({ created, hlc: { ms, c: 0 } });
  let fd: number;
  try {
    fd = openSync(values.out, 'wx', 0o600);
  } catch (cause) {
    throw new ShuniuError('E_ARGUMENT', `cannot create ${values.out}: ${(cause as Error).message}`, { cause });
  }
  writeSync(fd, `${JSON.stringify({ ...hub.keyFile, inception: hub.inception }, null, 2)}\n`);
  closeSync(fd);
  process.stdout.write(`${recordJson(hub.inception)}\n`);
  process.stderr.write(`hub ${hub.id}\nkey file ${values.out} (keep it secret; keep recoverySeed offline)\n`);
  return 0;
}
