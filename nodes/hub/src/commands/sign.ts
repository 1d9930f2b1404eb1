import {
  type KeyFile,
  parseIJson,
  ready,
  recordJson,
  ShuniuError,
  seedsFromKeyFile,
  signingKeyPairFromSeed,
  signRecord,
  type UnsignedRecord,
} from '@shuniu/protocol';
import { args, readStdin, readText } from './io.js';

/** `shuniu sign --key FILE [RECORD.json]`: signs an unsigned record (every envelope field but `sig`; `hub` defaults to the key file's). */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = args({ args: argv, options: { key: { type: 'string' }, help: { type: 'boolean' } }, allowPositionals: true });
  if (values.help || !values.key || positionals.length > 1) {
    process.stdout.write('usage: shuniu sign --key KEYFILE [UNSIGNED.json]   (reads stdin without a file)\n');
    return values.help ? 0 : 2;
  }
  await ready();
  const keyFile = parseIJson(readText(values.key)) as unknown as KeyFile;
  if (typeof keyFile?.hub !== 'string') throw new ShuniuError('E_KEY', `${values.key} is not a shuniu key file`);
  // A node's hub.key.json has no recoverySeed (spec/keys.md §6): only the signing seed is needed here.
  const signing = signingKeyPairFromSeed(seedsFromKeyFile(keyFile).signing);
  const text = positionals[0] ? readText(positionals[0]) : await readStdin();
  const unsigned = parseIJson(text);
  if (unsigned === null || typeof unsigned !== 'object' || Array.isArray(unsigned))
    throw new ShuniuError('E_SCHEMA', 'the unsigned record must be a JSON object');
  if ('sig' in unsigned) throw new ShuniuError('E_ARGUMENT', 'the record already has a sig');
  const rec = { v: 1, hub: keyFile.hub, ...unsigned } as unknown as UnsignedRecord;
  if (rec.hub !== keyFile.hub) throw new ShuniuError('E_ARGUMENT', `record hub ${rec.hub} is not the key file's hub ${keyFile.hub}`);
  process.stdout.write(`${recordJson(signRecord(rec, signing.secretKey))}\n`);
  return 0;
}
