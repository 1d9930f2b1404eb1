import { ShuniuError } from '@shuniu/protocol';
import { Hono } from 'hono';
import { BUNDLE_MEDIA_TYPE, importBundle, parseHeads, writeBundle } from '../../export/bundle.js';
import type { Ingestor } from '../../ingest.js';
import type { Store } from '../../store/types.js';
import { readJsonText } from '../body.js';

export interface BundleDeps {
  store: Store;
  ingestor: Ingestor;
  hubId: string;
}

/** A bundle's file name: the writer's hub (first 8 characters) and the time it was written. */
export function bundleFileName(hub: string, created: string): string {
  return `shuniu-${hub.slice(0, 8)}-${created.replace(/[:]/g, '').replace(/\.\d+/, '')}.bundle.gz`;
}

/**
 * Offline bundles over HTTP, for the console's download and upload and the
 * CLI's `--url` (spec/node.md §13). Operator only (the access table).
 */
export function bundleRoutes(deps: BundleDeps) {
  const app = new Hono();

  // The body is the peer's heads file (`{"heads":{…}}` as GET /v1/heads answers, or `{}` for everything).
  app.post('/v1/bundle/export', async (c) => {
    const text = await readJsonText(c);
    const since = text.trim() === '' || text.trim() === '{}' ? {} : parseHeads(text);
    const strip = c.req.query('stripSealed');
    if (strip !== undefined && strip !== 'true' && strip !== 'false') throw new ShuniuError('E_ARGUMENT', 'stripSealed must be true or false');
    const { bytes, header } = writeBundle(deps.store, deps.hubId, { since, stripSealed: strip === 'true' });
    return c.body(new Uint8Array(bytes), 200, {
      'content-type': BUNDLE_MEDIA_TYPE,
      'content-disposition': `attachment; filename="${bundleFileName(header.hub, header.created)}"`,
      'shuniu-bundle-records': String(header.records),
    });
  });

  app.post('/v1/bundle/import', async (c) => {
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/(gzip|x-gzip|octet-stream)\s*(;|$)/i.test(type))
      throw new ShuniuError('E_UNSUPPORTED_MEDIA', `send the bundle as ${BUNDLE_MEDIA_TYPE}`);
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    return c.json(await importBundle(deps.ingestor, bytes));
  });

  return app;
}
