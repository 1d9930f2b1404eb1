// Junk holders (issue 11 point 2): strangers — fresh hubs nobody admitted — pushing records with
// large sealed parts, for `pnpm bench held` and the junk_holders phase of `pnpm bench hostile`.
import { request } from 'node:http';
import { Author, type BodyOf, createHub, type SignedRecord, seal, toBase64url } from '@shuniu/protocol';

const need = (i: number, ext?: Record<string, string>): BodyOf<'need.posted'> => ({
  item: { code: 'PPE.MASK.MEDICAL', name: '医用外科口罩' },
  quantity: 1 + i,
  unit: { name: 'box', base: 'piece', size: 50 },
  urgency: 'critical',
  neededBy: '2030-01-30T00:00:00Z',
  region: '420902',
  beneficiaries: { group: 'medical_staff', count: 300 },
  requester: { name: '孝南区人民医院', kind: 'hospital', region: '420902' },
  ...(ext ? { ext } : {}),
});

/** A fresh hub and a signer of its next records (signRecord's size limits apply to `next`). */
export function stranger() {
  let t = Date.now() - 3_600_000;
  const hub = createHub({ created: '2020-01-24T08:00:00Z', hlc: { ms: t, c: 0 } });
  const author = Author.fromNewHub(hub, () => ++t);
  const to = [{ hub: hub.id, encryptionKey: toBase64url(hub.keys.encryption.publicKey) }];
  return {
    inception: hub.inception,
    /** The next need, `pad` characters of ext and a sealed part of `payload` bytes. */
    next(i: number, payload: number, pad = 0): SignedRecord {
      const { sealed, sealedHash } = seal({ rows: 'y'.repeat(payload) }, to);
      return author.sign('need.posted', need(i, pad ? { 'org.example.pad': 'x'.repeat(pad) } : undefined), { sealed, sealedHash }).record;
    },
    /** A need signed with the hash of a sealed part over the size limit, then given that part (signRecord would refuse it). */
    oversized(i: number, payload: number): SignedRecord {
      const { sealed, sealedHash } = seal({ rows: 'y'.repeat(payload) }, to);
      return { ...author.sign('need.posted', need(i), { sealedHash }).record, sealed } as SignedRecord;
    },
  };
}

/** The largest record the limits allow, near enough: ~61 KB signed, a 196,000-byte sealed payload (~330 KB of text). */
export const maxRecord = (s: ReturnType<typeof stranger>, i: number) => s.next(i, 196_000, 60_000);

/** POSTs records from `localAddress`; the acks (a refused request as one pseudo-ack). */
export function push(url: string, localAddress: string, records: SignedRecord[]): Promise<{ status: string; code?: string }[]> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/records`, { method: 'POST', localAddress, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { acks?: { status: string; code?: string }[]; code?: string };
          resolve(body.acks ?? [{ status: 'refused', code: body.code ?? String(res.statusCode) }]);
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify(records));
  });
}

/** The shapes of bench/hostile.ts (Target, AttackRun), restated so this file stands alone. */
interface Target {
  url: string;
  token: string;
}
interface AttackRun {
  prepare?: (t: Target) => Promise<void>;
  during?: (t: Target, signal: AbortSignal) => Promise<void>;
  after?: () => Record<string, number>;
  close(): Promise<void>;
}

/**
 * The junk_holders phase of `pnpm bench hostile`: fresh strangers from 12 addresses push
 * max-size records as verifiable chains, 20 a request, the next stranger whenever one is
 * refused; held_bytes_max is the largest `bytes` GET /v1/held reported. The records are made
 * before the phase (`strangers` × `perStranger`, ~330 KB each): an attacker signs and seals
 * on its own machines, and sealing here during the phase would stall this process's event
 * loop, which times the operator's writes.
 */
export async function junkHolders(strangers = 12, perStranger = 40): Promise<AttackRun> {
  let heldBytesMax = 0;
  let refused = 0;
  const chains: SignedRecord[][] = [];
  return {
    prepare: async () => {
      for (let k = 0; k < strangers; k++) {
        const s = stranger();
        const chain = [s.inception];
        for (let i = 1; i <= perStranger; i++) chain.push(maxRecord(s, i));
        chains.push(chain);
        await new Promise((r) => setImmediate(r));
      }
    },
    during: async (t: Target, signal: AbortSignal) => {
      const held = async () => {
        const res = await fetch(`${t.url}/v1/held`, { headers: { authorization: `Bearer ${t.token}` } });
        if (res.ok) heldBytesMax = Math.max(heldBytesMax, ((await res.json()) as { bytes: number }).bytes);
      };
      for (let k = 0; !signal.aborted; k++) {
        const chain = chains[k % chains.length] as SignedRecord[];
        const addr = `127.0.0.${50 + (k % 12)}`;
        for (let i = 0; i < chain.length && !signal.aborted; i += 20) {
          const acks = await push(t.url, addr, chain.slice(i, i + 20)).catch(() => [{ status: 'error' }]);
          await held().catch(() => {});
          if (acks.some((a) => a.status !== 'held')) {
            refused++;
            break;
          }
        }
      }
    },
    after: () => ({ held_bytes_max: heldBytesMax, junk_requests_refused: refused }),
    close: async () => {},
  };
}
