// Internal failures are never blamed on the sender (issue 14 point 7, spec/errors.md): a store
// that fails while a push is read answers 5xx E_STORAGE / E_INTERNAL, not a record's E_SCHEMA.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, startNode, TestHub } from './helpers.js';

type Node = Awaited<ReturnType<typeof startNode>>;

describe('a store failure while a push is read', () => {
  let n: Node;
  beforeAll(async () => {
    n = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' });
  });
  afterAll(async () => {
    n.node.store.db.exec('CREATE TABLE IF NOT EXISTS blocked (hub TEXT PRIMARY KEY, reason TEXT, since_ms INTEGER NOT NULL)');
    await n.node.close().catch(() => {});
  });

  it('answers 5xx with E_STORAGE or E_INTERNAL, never a 4xx naming the record', async () => {
    const county = await TestHub.make();
    // A table the ingest path reads goes away under the node (as a damaged file would): SQLite fails the read.
    n.node.store.db.exec('DROP TABLE blocked');
    for (const body of [county.records[0], county.records]) {
      const res = await post(`${n.url}/v1/records`, body);
      expect(res.status).toBeGreaterThanOrEqual(500);
      const p = (await res.json()) as { code: string; detail: string };
      expect(['E_STORAGE', 'E_INTERNAL']).toContain(p.code);
      expect(p.detail).not.toContain('record could not be read');
    }
  });
});
