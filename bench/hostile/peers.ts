// Peers that misbehave, as tiny node:http servers (issue 11 point 1): each answers its discovery
// document, then on every other request either sends headers and stalls, never answers, or
// streams a huge body. Used by bench/hostile.ts (the tests have their own copy in
// nodes/hub/test/hostile-peers.test.ts).
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type BadKind = 'stall' | 'silent' | 'huge';

export interface BadPeer {
  url: string;
  /** Requests seen, as `METHOD path`. */
  seen: string[];
  /** Body bytes written so far (huge answers). */
  written: () => number;
  close(): Promise<void>;
}

export async function badPeer(kind: BadKind, hugeBytes = 300 * 1024 * 1024): Promise<BadPeer> {
  const sockets = new Set<Socket>();
  const seen: string[] = [];
  let written = 0;
  const chunk = Buffer.alloc(64 * 1024, 'a');
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    if (req.url === '/.well-known/shuniu') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ hub: `bad-${kind}`, protocol: { versions: [1] }, trust: { roots: [] } }));
      return;
    }
    if (kind === 'silent') return;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    if (kind === 'stall') {
      res.write('{"heads":{');
      return;
    }
    res.write('{"heads":{},"pad":"');
    let sent = 0;
    let closed = false;
    res.on('close', () => {
      closed = true;
    });
    const pump = () => {
      while (!closed && sent < hugeBytes) {
        sent += chunk.length;
        written += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!closed) res.end('"}');
    };
    pump();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    written: () => written,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
