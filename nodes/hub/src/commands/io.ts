import { readFileSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ShuniuError } from '@shuniu/protocol';

/** A record id, hub id or token id (base64url, 16+ characters) that happens to begin with "-". */
const DASHED_ID = /^-[A-Za-z0-9_-]{15,}$/;

/**
 * Ids are base64url, so one in 32 begins with "-", which parseArgs would take
 * for an option. An argument of that shape that is no declared option is a
 * value: joined to a preceding string option (`--hub=-…`), else a positional
 * (moved behind `--`, after the other positionals).
 */
export function idSafeArgs(argv: readonly string[], options: ParseArgsConfig['options'] = {}): string[] {
  const optionOf = (a: string) => (a.startsWith('--') ? options[a.slice(2)] : Object.values(options).find((o) => a.length === 2 && o.short === a.slice(1)));
  const out: string[] = [];
  const tail: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      tail.push(...argv.slice(i + 1));
      break;
    }
    if (!DASHED_ID.test(a) || optionOf(a)) {
      out.push(a);
      continue;
    }
    const prev = out[out.length - 1];
    if (prev !== undefined && !prev.includes('=') && optionOf(prev)?.type === 'string') out[out.length - 1] = `${prev}=${a}`;
    else tail.push(a);
  }
  return tail.length > 0 ? [...out, '--', ...tail] : out;
}

/** parseArgs that turns unknown options into an E_ARGUMENT error instead of a stack trace, and reads ids beginning with "-" as values. */
export function args<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs({ ...config, args: idSafeArgs(config.args ?? process.argv.slice(2), config.options) } as T);
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
