import { readFileSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ShuniuError } from '@shuniu/protocol';

/** parseArgs that turns unknown options into an E_ARGUMENT error instead of a stack trace. */
export function args<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (cause) {
    throw new ShuniuError('E_ARGUMENT', cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** Whole standard input as UTF-8 text. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ShuniuError('E_ARGUMENT', `cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
}
