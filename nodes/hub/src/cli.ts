#!/usr/bin/env node
/**
 * `shuniu <command> [args]`. Each command is a module in ./commands exporting
 * `run(args): Promise<number>`, loaded on demand so that `shuniu verify`
 * does not pay for the HTTP server or SQLite.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isShuniuError } from '@shuniu/protocol';
import { privateUmask } from './files.js';

const HELP = `shuniu — Shuniu hub node and protocol tools

usage: shuniu <command> [options]

protocol:
  keygen  --out FILE [--created RFC3339]   new hub identity: key file (mode 0600), inception record on stdout
  sign    --key FILE [RECORD.json]         sign an unsigned record (stdin if no file); signed record on stdout
  verify  [FILE ...]                       verify records as JSON lines (stdin if no file): "ok <id>" or "error <code> <message>"

node:
  init    --dir DIR --name NAME --level LEVEL --region CODE [--parent URL]
  start   --dir DIR [--port N] [--print-link]
  token   --dir DIR --scope operator|subscriber [--ttl 1h]   also: token list|revoke|rotate-key --dir DIR
  recover --dir DIR --recovery-key FILE [--from-seq S]   take the hub back after a theft (offline recovery key)
  held    --dir DIR | held purge --dir DIR [--hub HUB] [--sender S] [--older-than 7d] | --all   the holding area
  erase   --dir DIR [--reason TEXT] RECORD_ID   erase a record's sealed part (private fields) here and ask every node to
  match   --url URL | --state FILE [filters]  proposed allocations as a table
  admit   --child HUBID --level L --region CODE --url URL   admit a hub (also --revoke; code, requests, --request ID: join requests)
  join    --dir DIR --parent URL --code CODE   ask the parent hub to admit this one (with its operator's join code)
  bundle  heads|export|import (--url URL | --dir DIR)   offline transfer: the records a peer lacks, in one file (USB)
  export  hxl needs|offers|allocations|deliveries | epcis  --url URL [--token T]   exports for partners' tools, on stdout
  import  needs|offers FILE [--dry-run] [--url URL --token T]   needs or offers from a spreadsheet (.xlsx, .csv; Chinese headers)

Run "shuniu <command> --help" for a command's options.`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...args] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(`${HELP}\n`);
    return cmd ? 0 : 2;
  }
  const here = dirname(fileURLToPath(import.meta.url));
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  if (!/^[a-z]+$/.test(cmd) || !existsSync(join(here, 'commands', `${cmd}.${ext}`))) {
    process.stderr.write(`shuniu: unknown command "${cmd}"\n\n${HELP}\n`);
    return 2;
  }
  // Whatever the CLI creates (data directory files, SQLite's -wal and -shm) is private: 0600 (spec/node.md §11).
  privateUmask();
  const mod = (await import(`./commands/${cmd}.js`)) as { run(args: string[]): Promise<number> };
  return mod.run(args);
}

const invokedDirectly = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === (await import('node:fs')).realpathSync(process.argv[1]);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (isShuniuError(err)) process.stderr.write(`shuniu: ${err.code} ${err.message}\n`);
      else process.stderr.write(`shuniu: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
