// `pnpm bench hostile [--quick]` (issue 11): one node, a `shuniu start` child process (built
// dist; its resident set read from /proc), kept busy by an operator posting needs
// (POST /v1/needs, one at a time, one every 50 ms, each timed) while attacks run in turn, each
// on a fresh data directory and a fresh start, ended by SIGTERM (timed: shutdown_s_<attack>).
//
// Every phase also has a healthy peer: a node in this process on 127.0.0.2 (so that its URL
// sorts after the bad peers', which all listen on 127.0.0.1: peers are read in URL order),
// followed by the child (its hub is a root of the child's), whose operator posts a need every
// 250 ms. pull_progress_all_peers is 1 when, in every phase, the child held the healthy peer's
// head as of the phase's end within 5 s of it (pullIntervalMs 1000 in the child).
//
// An attack is an entry of ATTACKS below: its name is the metric suffix
// (operator_write_p99_ms_<name>); `start` runs whatever it needs before the node starts
// (servers, peers for the data directory) and returns what runs once the node is up (`prepare`,
// before the clock), during the phase and after it.
// Attacks of other points of issue 11 are TODO entries, skipped until filled.
//
// Metrics: operator_write_p99_ms_<attack> (quiet = no attack), rss_growth_mb_max (child's
// largest resident growth over its resident set when ready, any phase), pull_progress_all_peers,
// shutdown_s_max. Also: p50 per attack, the bytes the oversized peer managed to send.
// Also held_bytes_max (junk holders). Not yet: match_s_100k_x_5k (bench/match.ts).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BodyOf } from '@shuniu/protocol';
import { HubNode, initDataDir } from '../nodes/hub/src/node.js';
import { SqliteStore } from '../nodes/hub/src/store/sqlite.js';
import { junkHolders } from './hostile/junk.js';
import { badPeer, badPeerProcess } from './hostile/peers.js';
import { proposalRequests } from './hostile/proposals.js';
import { filteredStreams, stateReaders } from './hostile/readers.js';
import { nationalMatch } from './match-scenario.js';
import { progress, quick, report } from './report.js';

const CLI = fileURLToPath(new URL('../nodes/hub/dist/cli.js', import.meta.url));
const PHASE_MS = quick ? 5_000 : 20_000;
const WRITE_EVERY_MS = 50;

/** The running node under attack. */
export interface Target {
  url: string;
  token: string;
  /** A subscriber token of the node (readers that are not its operators). */
  subscriber?: string;
  pid: number;
}

/** What an attack runs once its node is up. */
export interface AttackRun {
  /** Peers to put in the data directory before the node starts. */
  peers?: { url: string; role: 'parent' | 'child' | 'follow' | 'peer'; push?: boolean; pull?: boolean }[];
  /** Once the node is up, before the phase's clock and the resident-set baseline (e.g. loading records). */
  prepare?: (t: Target) => Promise<void>;
  /** Runs while the operator posts; should end soon after `signal` aborts. */
  during?: (t: Target, signal: AbortSignal) => Promise<void>;
  /** Figures of its own (added to the metrics when numbers), after the phase. */
  after?: () => Record<string, number>;
  close(): Promise<void>;
}

export interface Attack {
  name: string;
  /** Not written yet: what it will do (skipped, listed on stderr). */
  todo?: string;
  start?: () => Promise<AttackRun>;
}

const needBody = (i: number): BodyOf<'need.posted'> => ({
  item: { code: 'PPE.MASK.MEDICAL', name: '医用外科口罩' },
  quantity: 100 + (i % 50),
  unit: { name: 'box', base: 'piece', size: 50 },
  urgency: 'critical',
  neededBy: '2030-01-30T00:00:00Z',
  region: '420902',
  beneficiaries: { group: 'medical_staff', count: 300 },
  requester: { name: `孝南区人民医院 ${i}`, kind: 'hospital', region: '420902' },
});

export const ATTACKS: Attack[] = [
  { name: 'quiet' },
  {
    // Point 1: four peers that send headers and then nothing, to every request (pulls and pushes).
    name: 'stalled_peers',
    start: async () => {
      const bad = await Promise.all([0, 1, 2, 3].map(() => badPeer('stall')));
      return {
        peers: bad.map((b) => ({ url: b.url, role: 'child' as const })),
        after: () => ({ stalled_requests: bad.reduce((n, b) => n + b.seen.length, 0) }),
        close: async () => {
          await Promise.all(bad.map((b) => b.close()));
        },
      };
    },
  },
  {
    // Point 1: a peer answering every request with a 300 MB body (the node reads at most maxAnswerBytes).
    name: 'oversized_answers',
    start: async () => {
      // In its own process: producing 300 MB bodies must not load the process that times the writes.
      const bad = await badPeerProcess('huge', 300 * 1024 * 1024);
      return {
        peers: [{ url: bad.url, role: 'child' }],
        after: () => ({ oversized_peer_bytes_sent_mb: Math.round(bad.written() / 2 ** 20) }),
        close: () => bad.close(),
      };
    },
  },
  // Point 2: junk holders — fresh strangers from 12 addresses pushing max-size records as
  // verifiable chains until refused (bench/hostile/junk.ts); held_bytes_max from GET /v1/held.
  { name: 'junk_holders', start: () => junkHolders(quick ? 4 : 12, quick ? 20 : 40) },
  // Point 3: 150 anonymous live feeds (`after=0`, a filter matching nothing) over 20,000 records,
  // from 19 addresses so that all are admitted (bench/hostile/readers.ts).
  { name: 'filtered_streams', start: async () => filteredStreams(quick ? 30 : 150, quick ? 2_000 : 20_000) },
  // Point 4: 16 readers paging through /v1/state/needs over 60,000 needs (bench/hostile/readers.ts).
  { name: 'state_readers', start: async () => stateReaders(16, quick ? 5_000 : 60_000) },
  // Point 5: 8 subscribers asking GET /v1/match/proposals in a loop at 60,000 needs × 2,000 offers (bench/hostile/proposals.ts).
  { name: 'proposal_requests', start: async () => proposalRequests(8, quick ? 6_000 : 60_000, quick ? 200 : 2_000) },
];

const p = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] as number);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMb = (pid: number) => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
};

/** CPU seconds the process has used (user + system, /proc/<pid>/stat). */
const cpuS = (pid: number) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
};

/** Waits until the process uses under 10 % of a core for a second (at most 60 s). */
async function settle(pid: number): Promise<void> {
  let calm = 0;
  for (let i = 0, last = cpuS(pid); i < 120 && calm < 2; i++) {
    await sleep(500);
    const now = cpuS(pid);
    calm = now - last < 0.05 ? calm + 1 : 0;
    last = now;
  }
}

// The healthy peer, for every phase.
const healthyDir = mkdtempSync(join(tmpdir(), 'shuniu-hostile-healthy-'));
await initDataDir({ dir: healthyDir, name: '湖北省枢纽', level: 'province', region: '420000', port: 0, host: '127.0.0.2' });
const healthy = await HubNode.open(healthyDir, { log: () => {}, threads: 1, overrides: { host: '127.0.0.2', federation: { pullIntervalMs: 0 } } });
const healthyUrl = await healthy.listen(0, '127.0.0.2');
const healthyToken = await healthy.auth.issue('operator', 3600);
const healthyHead = () => healthy.store.heads()[healthy.hubId] ?? -1;

async function startChild(dir: string): Promise<{ child: ChildProcess; target: Target; exited: Promise<void> }> {
  // HOSTILE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof": node options for the node under attack (profiling).
  const nodeArgs = (process.env.HOSTILE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'start', '--dir', dir, '--port', '0', '--quiet', '--print-link'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SHUNIU_PULL_INTERVAL_MS: '1000' },
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let out = '';
  child.stderr?.resume();
  const target = await new Promise<Target>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      if (process.env.HOSTILE_NODE_LOG) appendFileSync(process.env.HOSTILE_NODE_LOG, d);
      out += d.toString();
      const url = /^\S+ (http\S+)$/m.exec(out)?.[1];
      const token = /#token=(\S+)/.exec(out)?.[1];
      if (url && token) resolve({ url, token, pid: child.pid as number });
    });
    child.once('exit', (code) => reject(new Error(`shuniu start exited (${code}) before serving: ${out}`)));
  });
  return { child, target, exited };
}

interface PhaseResult {
  p99: number;
  p50: number;
  writes: number;
  rssGrowthMb: number;
  shutdownS: number;
  pulled: boolean;
  extra: Record<string, number>;
}

async function phase(attack: Attack): Promise<PhaseResult> {
  const run = attack.start ? await attack.start() : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'shuniu-hostile-'));
  const init = await initDataDir({ dir, name: '孝感市枢纽', level: 'city', region: '420900', port: 0, follow: [healthyUrl] });
  // The healthy root admits the node, so that the hubs the node admits (and their records) count in its state.
  const admit = await fetch(`${healthyUrl}/v1/admissions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${healthyToken}` },
    body: JSON.stringify({ child: init.hubId, level: 'city', region: '420900' }),
  });
  if (admit.status !== 201) throw new Error(`admission of the node by the healthy root: ${admit.status} ${await admit.text()}`);
  if (run?.peers?.length) {
    const store = new SqliteStore(join(dir, 'hub.db'));
    for (const peer of run.peers) store.upsertPeer(peer);
    store.close();
  }
  const { child, target, exited } = await startChild(dir);
  // Readers that are not the node's operators read as subscribers (`shuniu token`, issue 11 point 5: "8 subscribers").
  const tok = spawnSync(process.execPath, [CLI, 'token', '--dir', dir, '--scope', 'subscriber', '--ttl', '1h'], { encoding: 'utf8' });
  if (tok.status === 0) target.subscriber = tok.stdout.trim();
  await run?.prepare?.(target);
  // The node settles first (a checkpoint written after the prepared records, say): the RSS
  // growth measured is the attack's, not that of ingesting what the phase prepared.
  await settle(target.pid);
  const rss0 = rssMb(target.pid);
  let rssMax = rss0;
  const sampler = setInterval(() => {
    const r = rssMb(target.pid);
    if (r > rssMax) rssMax = r;
  }, 100);
  const ctl = new AbortController();
  const during = run?.during?.(target, ctl.signal);
  // The healthy peer's operator.
  const feeding = (async () => {
    for (let i = 0; !ctl.signal.aborted; i++) {
      await fetch(`${healthyUrl}/v1/needs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${healthyToken}` },
        body: JSON.stringify(needBody(i)),
      })
        .then((r) => r.arrayBuffer())
        .catch((e) => progress(`  healthy peer's operator: ${(e as Error).message}`));
      await sleep(250);
    }
  })();
  // The node's operator, timed.
  const lat: number[] = [];
  const end = performance.now() + PHASE_MS;
  for (let i = 0, next = performance.now(); performance.now() < end; i++) {
    const t = performance.now();
    const res = await fetch(`${target.url}/v1/needs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${target.token}` },
      body: JSON.stringify(needBody(i)),
    });
    await res.arrayBuffer();
    if (res.status !== 201) throw new Error(`POST /v1/needs: ${res.status}`);
    lat.push(performance.now() - t);
    next += WRITE_EVERY_MS;
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
  }
  ctl.abort();
  await feeding;
  // Did the healthy peer keep being pulled? Its head at the phase's end, held by the child within 5 s.
  const want = healthyHead();
  let pulled = false;
  for (const t = performance.now(); performance.now() - t < 5000; ) {
    const heads = (await (await fetch(`${target.url}/v1/heads`)).json()) as { heads: Record<string, number> };
    if ((heads.heads[healthy.hubId] ?? -1) >= want) {
      pulled = true;
      break;
    }
    await sleep(200);
  }
  const status = (await (await fetch(`${target.url}/v1/status`, { headers: { authorization: `Bearer ${target.token}` } })).json()) as {
    peers?: { url: string; lastError: string | null }[];
    memory?: Record<string, number | null>;
  };
  for (const peer of status.peers ?? []) if (peer.lastError) progress(`  peer ${peer.url}: ${peer.lastError}`);
  // Where the resident set is at the phase's end (MiB): the main heap, buffers, the matching worker's heap.
  if (status.memory) progress(`  memory at the end: ${JSON.stringify(status.memory)} (resident when ready: ${rss0.toFixed(0)})`);
  // Shutdown with the attack still on.
  const ts = performance.now();
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  await exited;
  clearTimeout(killer);
  const shutdownS = (performance.now() - ts) / 1000;
  clearInterval(sampler);
  await during;
  const extra = run?.after?.() ?? {};
  await run?.close();
  rmSync(dir, { recursive: true, force: true });
  return { p99: p(lat, 0.99), p50: p(lat, 0.5), writes: lat.length, rssGrowthMb: rssMax - rss0, shutdownS, pulled, extra };
}

const metrics: Record<string, number> = {};
let rssGrowth = 0;
let shutdownMax = 0;
let pulledAll = true;
// `--only quiet,junk_holders`: those phases alone (results go to hostile.only.json, not the committed figures).
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg > 0 ? new Set((process.argv[onlyArg + 1] ?? '').split(',')) : undefined;
for (const attack of ATTACKS) {
  if (only && !only.has(attack.name)) continue;
  if (attack.todo) {
    progress(`${attack.name}: TODO (${attack.todo})`);
    continue;
  }
  progress(`${attack.name}: ${PHASE_MS / 1000} s`);
  const r = await phase(attack);
  progress(
    `  ${r.writes} writes, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms; RSS +${r.rssGrowthMb.toFixed(0)} MB; healthy peer pulled: ${r.pulled}; shutdown ${r.shutdownS.toFixed(2)} s ${JSON.stringify(r.extra)}`,
  );
  metrics[`operator_write_p99_ms_${attack.name}`] = Number(r.p99.toFixed(1));
  metrics[`operator_write_p50_ms_${attack.name}`] = Number(r.p50.toFixed(1));
  metrics[`shutdown_s_${attack.name}`] = Number(r.shutdownS.toFixed(2));
  for (const [k, v] of Object.entries(r.extra)) metrics[k] = v;
  rssGrowth = Math.max(rssGrowth, r.rssGrowthMb);
  shutdownMax = Math.max(shutdownMax, r.shutdownS);
  pulledAll &&= r.pulled;
}
await healthy.close();
rmSync(healthyDir, { recursive: true, force: true });
// Point 5: the engine at national scale in the node's matching worker (as bench/match.ts measures it).
if (!only || only.has('match')) {
  const national = quick ? await nationalMatch(10_000, 500) : await nationalMatch(100_000, 5_000);
  metrics.match_s_100k_x_5k = Number(national.nationalSeconds.toFixed(2));
}

report(only ? 'hostile.only' : 'hostile', {
  ...metrics,
  rss_growth_mb_max: Math.round(rssGrowth),
  pull_progress_all_peers: pulledAll ? 1 : 0,
  shutdown_s_max: Number(shutdownMax.toFixed(2)),
});
