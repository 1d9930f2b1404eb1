import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_FILE, readCheckpointHeader } from '../src/checkpoint-file.js';
import { needBody, post, reopen, startNode } from './helpers.js';

// Issue 11 point 6: nothing that grows with the data runs on the request path. The resolver
// checkpoint is written by a worker from the database, so the node's main thread never
// serializes its state (counted, not timed).
describe('resolver checkpoints (spec/node.md §10.4)', () => {
  it('are written off the main thread, and a restart resumes from them', async () => {
    const started = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, { overrides: { checkpointEvery: 4 } });
    let { node } = started;
    const { url, token, dir } = started;
    let serialized = 0;
    const engine = node.ingestor.engine;
    const toJSON = engine.toJSON.bind(engine);
    engine.toJSON = () => {
      serialized++;
      return toJSON();
    };
    for (let i = 0; i < 12; i++) expect((await post(`${url}/v1/needs`, needBody({ quantity: 10 + i }), token)).status).toBe(201);
    await node.checkpoint(); // the one a commit started, if any
    await node.checkpoint(); // up to the last record
    // The main thread never serialized the state; the file covers every record.
    expect(serialized).toBe(0);
    const max = node.store.maxOrd();
    expect(readCheckpointHeader(dir)?.ord).toBe(max);
    const _hash = node.ingestor.engine.stateHash();
    await node.close();

    // Equal record sets give equal state (the restart signs a new hub.profile for its new port).
    const replayed = () => {
      const rebuilt = node.stateFactory(node.config.roots);
      for (const r of node.store.since(0, 1_000_000)) rebuilt.apply({ id: r.id, record: JSON.parse(r.json) } as never);
      return rebuilt.stateHash();
    };
    ({ node } = await reopen(dir));
    expect(node.ingestor.engine.stateHash()).toBe(replayed());
    await node.close();

    // A checkpoint whose header names another record at its ord is ignored: the records are replayed.
    const file = join(dir, CHECKPOINT_FILE);
    const text = readFileSync(file, 'utf8');
    const nl = text.indexOf('\n');
    const header = JSON.parse(text.slice(0, nl)) as { id: string };
    writeFileSync(file, `${JSON.stringify({ ...header, id: 'not-this-one' })}\n{"garbage":true}`);
    ({ node } = await reopen(dir));
    expect(node.ingestor.engine.stateHash()).toBe(replayed());
    await node.close();
  });
});
