import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKEN, needsSheet, ROWS, writeNeedsSheet } from './fixtures/needs-sheet.js';
import { startNode } from './helpers.js';

/**
 * `shuniu import needs` (issue 18 point 4) as users run it, the built CLI in a
 * child process: a generated sheet of 210 rows with Chinese headers, mixed
 * units and seven broken rows; the dry run's lines and summary; then the
 * import through a real node, the needs in its state, contacts sealed.
 */
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const run = promisify(execFile);
async function shuniu(args: string[], env: Record<string, string> = {}) {
  try {
    const r = await run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, maxBuffer: 16 << 20 });
    return { status: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { status: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('shuniu import needs FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shuniu-import-'));
  const now = Date.now();
  const xlsx = join(dir, 'needs.xlsx');
  const csv = join(dir, 'needs.csv');
  const { expected } = needsSheet(now);
  beforeAll(async () => {
    await writeNeedsSheet(xlsx, now);
    await writeNeedsSheet(csv, now);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--dry-run prints ok or error per row and a summary, for XLSX and CSV alike', async () => {
    const r = await shuniu(['import', 'needs', xlsx, '--dry-run']);
    expect(r.status).toBe(1); // some rows have errors
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(ROWS + 2);
    expect(lines.at(-2)).toBe('ignored columns: 序号');
    expect(lines.at(-1)).toBe(`${ROWS} rows: ${ROWS - 7} ok, 7 with errors (dry run: nothing posted)`);
    for (const [row, why] of Object.entries(BROKEN)) {
      const line = lines.find((l) => l.startsWith(`error ${row} `));
      expect(line, `row ${row}`).toBeDefined();
      expect(line).toContain(why);
    }
    for (const [row, e] of expected) {
      const line = lines.find((l) => l.startsWith(`ok ${row} `)) as string;
      expect(line, `row ${row}`).toBeDefined();
      const [, , code, quantity, region] = line.split(' ');
      expect(code).toBe(e.code);
      expect(Number.parseInt(quantity as string, 10)).toBe(e.base);
      expect(region).toBe(e.region);
    }
    // The place's name beside its code; a pack counted in its base unit.
    expect(lines).toContain(lines.find((l) => l.startsWith('ok 3 ')));
    expect(lines.find((l) => / 110105 北京市朝阳区/.test(l))).toBeDefined();
    expect(lines.find((l) => / 220104 长春市朝阳区/.test(l))).toBeDefined();
    const c = await shuniu(['import', 'needs', csv, '--dry-run']);
    expect(c.stdout).toBe(r.stdout);
  }, 60_000);

  it('refuses to post a sheet with errors unless --skip-errors, then posts the good rows through the node with contacts sealed', async () => {
    const n = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' });
    try {
      const refused = await shuniu(['import', 'needs', xlsx, '--url', n.url, '--token', n.token]);
      expect(refused.status).toBe(1);
      expect(refused.stdout.trim().split('\n').at(-1)).toContain('nothing posted');
      const state = async () =>
        (
          (await (await fetch(`${n.url}/v1/state/needs?limit=5000`, { headers: { authorization: `Bearer ${n.token}` } })).json()) as {
            needs: Record<string, unknown>[];
          }
        ).needs;
      expect(await state()).toHaveLength(0);

      const r = await shuniu(['import', 'needs', xlsx, '--url', n.url, '--skip-errors', '--campaign', '2020 新冠应急'], { SHUNIU_TOKEN: n.token });
      expect(r.stderr).toBe('');
      const lines = r.stdout.trim().split('\n');
      expect(lines.at(-1)).toBe(`${ROWS} rows: ${ROWS - 7} ok, 7 with errors; posted ${ROWS - 7} needs`);
      const posted = new Map(lines.filter((l) => l.startsWith('posted ')).map((l) => [Number(l.split(' ')[1]), l.split(' ')[2] as string]));
      expect(posted.size).toBe(ROWS - 7);

      const needs = await state();
      expect(needs).toHaveLength(ROWS - 7);
      const byId = new Map(needs.map((x) => [x.id as string, x]));
      for (const [row, e] of expected) {
        const need = byId.get(posted.get(row) as string) as {
          item: { code: string };
          quantity: number;
          unit: { size: number };
          region: string;
          campaign: string;
        };
        expect(need.item.code, `row ${row}`).toBe(e.code);
        expect(need.quantity).toBe(e.base); // the state counts in base units
        expect(need.region).toBe(e.region);
        expect(need.campaign).toBe('2020 新冠应急');
      }
      // Contact, phone and address are sealed: not in the public state, opened by the operator.
      const text = JSON.stringify(needs);
      expect(text).not.toContain('13800000002');
      expect(text).not.toContain('联系人2');
      const id = posted.get(3) as string;
      const priv = (await (await fetch(`${n.url}/v1/records/${id}/private`, { headers: { authorization: `Bearer ${n.token}` } })).json()) as {
        private: unknown;
      };
      expect(priv.private).toEqual({ contact: { name: '联系人2', phone: '13800000002' }, address: '武昌区某某路2号' });
    } finally {
      await n.node.close();
    }
  }, 120_000);
});
