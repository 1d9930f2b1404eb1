import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ready } from '@shuniu/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubNode } from '../nodes/hub/src/node.js';
import { startNode } from '../nodes/hub/test/helpers.js';

/**
 * `pnpm conformance --url URL --operator-token T` (packages/conformance,
 * issue 13) against a real reference node on loopback, as an implementer
 * runs it against theirs: a child process that speaks HTTP only.
 */
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs');
const CLI = join(ROOT, 'packages/conformance/src/cli.ts');
const KNOWN = join(ROOT, 'packages/conformance/known-failures.reference.json');

function conformance(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Asynchronous: the node under test answers from this process's event loop.
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSX, '--conditions=@shuniu/source', CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('conformance suite against the reference node', () => {
  let node: HubNode;
  let url: string;
  let token: string;
  const tmp = mkdtempSync(join(tmpdir(), 'shuniu-conformance-'));

  beforeAll(async () => {
    await ready();
    // A root of level national: it may admit the vectors' province, city and county hubs (spec/resolution.md §1).
    ({ node, url, token } = await startNode({ name: '一致性测试', level: 'national', region: '110000' }));
  });
  afterAll(async () => {
    await node?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('passes every check over HTTP (TAP on stdout, JUnit XML, exit 0), known failures reported as TODO', async () => {
    const junit = join(tmp, 'junit.xml');
    const r = await conformance(['--url', url, '--operator-token', token, '--junit', junit, '--known-failures', KNOWN]);
    const lines = r.stdout.trim().split('\n');
    const failing = lines.filter((l) => l.startsWith('not ok') && !l.includes('# TODO'));
    expect(failing, r.stdout + r.stderr).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
    expect(lines[0]).toBe('TAP version 14');
    const summary = /^conformance: (\d+) passed, (\d+) failed, (\d+) skipped$/.exec(lines.at(-1) ?? '');
    expect(summary, lines.at(-1)).not.toBeNull();
    expect(Number(summary![2])).toBe(0);
    // Every invalid vector is checked, none skipped on a fresh node.
    const vectors = JSON.parse(readFileSync(join(ROOT, 'spec/vectors/invalid.json'), 'utf8')).vectors.length;
    const vectorLines = lines.filter((l) => /^(not )?ok \d+ - invalid vectors: \\#\d+ /.test(l));
    expect(vectorLines).toHaveLength(vectors);
    expect(vectorLines.filter((l) => !l.startsWith('ok') || l.includes('# SKIP'))).toEqual([]);
    expect(Number(summary![1])).toBeGreaterThan(vectors + 30);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="shuniu-conformance" tests="\d+" failures="0"/);
  }, 120_000);

  it('fails (exit 1, not ok with the reason) when the node answers otherwise than the spec says', async () => {
    // The same node, judged by a spec whose table gives E_SIG another status.
    const spec = join(tmp, 'spec');
    cpSync(join(ROOT, 'spec'), spec, { recursive: true });
    const errors = readFileSync(join(spec, 'errors.md'), 'utf8');
    // A row before the one that names E_SIG, giving it 400 (the first row naming a code decides).
    const changed = errors.replace(
      /^\| `rejected` \|[^\n]*`E_SIG`/m,
      (row) => `| \`rejected\` | \`E_SIG\` | \`400\` problem document | ack in \`200\` |\n${row}`,
    );
    expect(changed).not.toBe(errors);
    writeFileSync(join(spec, 'errors.md'), changed);
    const r = await conformance(['--url', url, '--operator-token', token, '--spec', spec, '--only', 'invalid vectors/#57 ']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^not ok \d+ - invalid vectors: \\#57 E_SIG/m);
    expect(r.stdout).toContain('expected HTTP 400 E_SIG, got 422');
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^conformance: \d+ passed, 1 failed, \d+ skipped$/);
  });

  it('fails a node whose served state breaks spec/schemas/state (issue 13 point 5)', async () => {
    // The same node, judged by a spec whose hub.json requires a member no hub has.
    const spec = join(tmp, 'spec-state');
    cpSync(join(ROOT, 'spec'), spec, { recursive: true });
    const file = join(spec, 'schemas/state/hub.json');
    const hub = JSON.parse(readFileSync(file, 'utf8'));
    hub.required.push('nickname');
    writeFileSync(file, JSON.stringify(hub));
    const r = await conformance(['--url', url, '--operator-token', token, '--spec', spec, '--only', 'state schemas/']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^not ok \d+ - state schemas: every item of GET \/v1\/state\/hubs validates against spec\/schemas\/state\/page\.hubs\.json/m);
    expect(r.stdout).toContain("must have required property 'nickname'");
    expect(r.stdout).toMatch(/^ok \d+ - state schemas: every item of GET \/v1\/state\/needs /m);
  });

  it('without an operator token it skips what needs admission and still passes (exit 0)', async () => {
    const r = await conformance(['--url', url]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const summary = /^conformance: (\d+) passed, 0 failed, (\d+) skipped$/.exec(r.stdout.trim().split('\n').at(-1) ?? '');
    expect(summary, r.stdout.slice(-300)).not.toBeNull();
    expect(Number(summary![1])).toBeGreaterThan(10);
    expect(r.stdout).toMatch(/^ok \d+ - admission: the operator admits the hub .* # SKIP needs --operator-token/m);
  });

  it('imports no node code: only @shuniu/protocol, Ajv (the JSON Schema validator), node: modules and its own files', () => {
    const src = join(ROOT, 'packages/conformance/src');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages/conformance/package.json'), 'utf8'));
    expect(Object.keys(pkg.dependencies ?? {})).toEqual(['@shuniu/protocol', 'ajv']);
    expect(pkg.devDependencies ?? {}).toEqual({});
    let imports = 0;
    for (const f of readdirSync(src)) {
      const text = readFileSync(join(src, f), 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
        expect(m[1], `${f} imports ${m[1]}`).toMatch(/^(@shuniu\/protocol|ajv\/dist\/2020\.js|node:[a-z/]+|\.\/[a-z-]+\.js)$/);
        imports++;
      }
    }
    expect(imports).toBeGreaterThan(15);
  });

  it('refuses a missing or malformed --url with exit 2 and the usage', async () => {
    const r = await conformance(['--url', 'localhost:7420']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage: pnpm conformance --url URL');
  });
});
