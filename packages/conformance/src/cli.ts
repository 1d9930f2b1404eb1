#!/usr/bin/env node
/**
 * pnpm conformance --url URL [--operator-token T] [--junit FILE] [--spec DIR]
 *                  [--only TEXT …] [--known-failures FILE]
 *
 * TAP on stdout, the summary line last; exit 0 when no check failed, 1 when
 * one did, 2 on a usage error.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runConformance } from './run.js';

const USAGE = `usage: pnpm conformance --url URL [--operator-token TOKEN] [--junit FILE] [--spec DIR] [--only TEXT …] [--known-failures FILE]
  --url              the node's base URL (e.g. http://127.0.0.1:7420)
  --operator-token   an operator bearer token of that node (default: $SHUNIU_TOKEN);
                     without it, admission, sealed parts, rotation and forks are skipped
  --junit FILE       also write JUnit XML to FILE
  --spec DIR         the spec/ directory whose vectors and tables to use (default: this repository's)
  --only TEXT        run only the checks whose "group/name" contains TEXT (repeatable)
  --known-failures F JSON object {"group/name": "reason"}: such failures are reported as TAP TODO`;

async function main(): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse();
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const v = args.values;
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!v.url || !/^https?:\/\//.test(v.url)) {
    process.stderr.write(`--url must be an http(s) URL\n${USAGE}\n`);
    return 2;
  }
  const token = v['operator-token'] ?? process.env.SHUNIU_TOKEN;
  const known = v['known-failures'] ? (JSON.parse(readFileSync(v['known-failures'], 'utf8')) as Record<string, string>) : undefined;
  const report = await runConformance({
    url: v.url,
    ...(token ? { operatorToken: token } : {}),
    ...(v.spec ? { specDir: v.spec } : {}),
    ...(v.only?.length ? { only: v.only } : {}),
    ...(known ? { knownFailures: known } : {}),
    write: (line) => process.stdout.write(`${line}\n`),
  });
  if (v.junit) writeFileSync(v.junit, report.junit);
  return report.failed > 0 ? 1 : 0;
}

function parse() {
  return parseArgs({
    options: {
      url: { type: 'string' },
      'operator-token': { type: 'string' },
      junit: { type: 'string' },
      spec: { type: 'string' },
      only: { type: 'string', multiple: true },
      'known-failures': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 2;
  },
);
