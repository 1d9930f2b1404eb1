import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { consoleRoutes, defaultConsoleDir } from '../../nodes/hub/src/http/routes/console.js';

describe('consoleRoutes: the node serving the built console at /', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shuniu-console-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="./assets/index-abc.js"></script>');
  writeFileSync(join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'not served');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const app = consoleRoutes({ dir });

  it('serves index.html at / with a same-origin content security policy', async () => {
    const res = await app.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(res.headers.get('cache-control')).toBe('no-cache');
  });

  it('serves hashed assets for good and nothing outside assets/', async () => {
    const js = await app.request('/assets/index-abc.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect(js.headers.get('cache-control')).toContain('immutable');
    for (const path of ['/assets/../secret.txt', '/assets/%2e%2e/secret.txt', '/assets/missing.js', '/assets/', '/secret.txt'])
      expect((await app.request(path)).status).toBe(404);
  });

  it('answers 503 with instructions when the console is not built', async () => {
    const res = await consoleRoutes({ dir: join(dir, 'nothing') }).request('/');
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('pnpm build:console');
  });

  it('finds nodes/console/dist from the node package by default', () => {
    expect(defaultConsoleDir().replace(/\\/g, '/')).toMatch(/nodes\/console\/dist\/$/);
  });
});
