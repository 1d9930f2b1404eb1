// Peers that misbehave, as tiny node:http servers (issue 11 point 1): each answers its discovery
// document, then on every other request either sends headers and stalls, never answers, or
// streams a huge body. Used by bench/hostile.ts and by nodes/hub/test/hostile-peers.test.ts.
import { spawn } from 'node:child_process';
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

/**
 * The same misbehaving peer in a process of its own, so that what it costs to
 * produce its answers (a 300 MB body) does not land on this process's event
 * loop, which times the operator's writes.
 */
export async function badPeerProcess(kind: BadKind, hugeBytes = 300 * 1024 * 1024): Promise<BadPeer> {
  const code = `
const { createServer } = require('node:http');
const kind = ${JSON.stringify(kind)}, hugeBytes = ${hugeBytes};
const chunk = Buffer.alloc(64 * 1024, 'a');
let written = 0;
const sockets = new Set();
const server = createServer((req, res) => {
  process.stdout.write('seen ' + req.method + ' ' + req.url + '\\n');
  req.resume();
  if (req.url === '/.well-known/shuniu') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ hub: 'bad-' + kind, protocol: { versions: [1] }, trust: { roots: [] } }));
    return;
  }
  if (kind === 'silent') return;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.flushHeaders();
  if (kind === 'stall') { res.write('{"heads":{'); return; }
  res.write('{"heads":{},"pad":"');
  let sent = 0, closed = false;
  res.on('close', () => { closed = true; });
  const pump = () => {
    while (!closed && sent < hugeBytes) {
      sent += chunk.length; written += chunk.length;
      if (!res.write(chunk)) { res.once('drain', pump); return; }
    }
    if (!closed) res.end('"}');
  };
  pump();
});
server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
setInterval(() => process.stdout.write('written ' + written + '\\n'), 200).unref();
process.on('message', () => process.stdout.write('written ' + written + '\\n'));
server.listen(0, '127.0.0.1', () => process.stdout.write('port ' + server.address().port + '\\n'));
`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const seen: string[] = [];
  let written = 0;
  let buf = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('port ')) resolve(Number(line.slice(5)));
        else if (line.startsWith('seen ')) seen.push(line.slice(5));
        else if (line.startsWith('written ')) written = Number(line.slice(8));
        nl = buf.indexOf('\n');
      }
    });
    child.once('exit', (c) => reject(new Error(`bad peer process exited (${c})`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    written: () => written,
    close: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
