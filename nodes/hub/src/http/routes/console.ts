import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';

export interface ConsoleDeps {
  /** The built console (nodes/console/dist); by default found beside this package in the repository. */
  dir?: string;
}

/** nodes/hub/{src,dist}/http/routes → nodes/console/dist: the same depth from source and from the build. */
export function defaultConsoleDir(): string {
  return fileURLToPath(new URL('../../../../console/dist/', import.meta.url));
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/**
 * Only the node's own origin: the console talks to no one else and loads
 * nothing from the network (there may be none). Inline style attributes are
 * allowed because the map legend and progress bars set widths and colours.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY = { 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

/**
 * Serves the operator console (nodes/console, a static Vite build) at `/`
 * and its hashed assets under `/assets/`. Without a build, `/` says how to
 * make one instead of failing.
 *
 * @example app.route('/', consoleRoutes())
 */
export function consoleRoutes(deps: ConsoleDeps = {}) {
  const root = resolve(deps.dir ?? defaultConsoleDir());
  const app = new Hono();

  const index = async () => {
    try {
      return await readFile(join(root, 'index.html'));
    } catch {
      return undefined;
    }
  };

  app.get('/', async (c) => {
    const html = await index();
    if (!html)
      return c.html(
        '<!doctype html><meta charset="utf-8"><title>Shuniu</title><p>控制台尚未构建。The console is not built: run <code>pnpm build:console</code>, then reload.</p>',
        503,
        SECURITY,
      );
    return c.body(new Uint8Array(html), 200, { 'content-type': TYPES['.html'] as string, 'cache-control': 'no-cache', ...SECURITY });
  });

  app.get('/assets/*', async (c) => {
    // Resolve and check containment, so `..` or encoded separators cannot leave the build directory.
    const file = resolve(root, c.req.path.slice(1));
    const type = TYPES[extname(file)];
    if (!file.startsWith(`${join(root, 'assets')}${sep}`) || !type) return c.notFound();
    try {
      if (!(await stat(file)).isFile()) return c.notFound();
      // Vite puts a content hash in every asset name: safe to cache for good.
      return c.body(new Uint8Array(await readFile(file)), 200, { 'content-type': type, 'cache-control': 'public, max-age=31536000, immutable', ...SECURITY });
    } catch {
      return c.notFound();
    }
  });

  return app;
}
