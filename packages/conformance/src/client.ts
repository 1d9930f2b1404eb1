/**
 * The suite's own HTTP client (fetch), knowing nothing of any node's code:
 * JSON in and out, the operator's bearer token when asked, problem documents
 * (RFC 9457) and a Server-Sent Events reader.
 */
import assert from 'node:assert/strict';

/** JSON as a node sent it: each check asserts the members it reads. */
// biome-ignore lint/suspicious/noExplicitAny: the shape is what the checks assert
export type Wire = any;

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined. */
  json: Wire;
}

export interface RequestOptions {
  /** A JS value sent as JSON; a string is sent as written. */
  body?: unknown;
  /** Send the operator token (when the suite has one). */
  operator?: boolean;
  headers?: Record<string, string>;
}

export class Client {
  /** Requests made, for the report. */
  requests = 0;
  constructor(
    readonly base: string,
    readonly operatorToken?: string,
    private readonly timeoutMs = 15_000,
  ) {}

  url(path: string): string {
    return /^https?:/.test(path) ? path : new URL(path, this.base).toString();
  }

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json', ...opts.headers };
    if (opts.operator) {
      if (!this.operatorToken) throw new Error('no operator token');
      headers.authorization = `Bearer ${this.operatorToken}`;
    }
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    // A node rate-limits per client (429 with Retry-After); the suite waits as told, a bounded number of times.
    for (let attempt = 0; ; attempt++) {
      this.requests++;
      const trace = process.env.SHUNIU_CONFORMANCE_TRACE ? (m: string) => process.stderr.write(`${m}\n`) : undefined;
      trace?.(`> ${method} ${path}`);
      const res = await fetch(this.url(path), { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
      const text = await res.text();
      trace?.(`< ${res.status} ${method} ${path} ${text.length}`);
      const retryAfter = Number(res.headers.get('retry-after'));
      if (res.status === 429 && retryAfter > 0 && retryAfter <= 5 && attempt < 3) {
        await new Promise((r) => setTimeout(r, retryAfter * 1000));
        continue;
      }
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, text, json };
    }
  }

  get(path: string, opts: RequestOptions = {}): Promise<Answer> {
    return this.request('GET', path, opts);
  }

  post(path: string, body: unknown, opts: RequestOptions = {}): Promise<Answer> {
    return this.request('POST', path, { ...opts, body });
  }

  /** Opens an SSE stream; read events with `next()`, then `close()`. */
  async events(path: string, headers: Record<string, string> = {}): Promise<EventStream> {
    const ctl = new AbortController();
    const res = await fetch(this.url(path), { headers: { accept: 'text/event-stream', ...headers }, signal: ctl.signal });
    return new EventStream(res, ctl);
  }
}

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** A minimal reader of the text/event-stream format (HTML Living Standard §9.2.6). */
export class EventStream {
  private buf = '';
  private readonly queue: SseEvent[] = [];
  private readonly reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private readonly decoder = new TextDecoder();
  private done = false;
  constructor(
    readonly response: Response,
    private readonly ctl: AbortController,
  ) {
    this.reader = response.body?.getReader();
  }

  /** The next event (comments skipped), or undefined at the end of the stream or after `ms`. */
  async next(ms = 10_000): Promise<SseEvent | undefined> {
    const deadline = Date.now() + ms;
    while (this.queue.length === 0) {
      if (this.done || !this.reader) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), left);
      });
      const read = await Promise.race([this.reader.read(), timeout]).finally(() => clearTimeout(timer));
      if (read === 'timeout') return undefined;
      if (read.done) {
        this.done = true;
        this.parse(true);
        continue;
      }
      this.buf += this.decoder.decode(read.value, { stream: true });
      this.parse(false);
    }
    return this.queue.shift();
  }

  /** Reads events until `stop` says so; throws when the stream ends or stalls first. */
  async until(stop: (e: SseEvent) => boolean, ms = 10_000): Promise<SseEvent[]> {
    const seen: SseEvent[] = [];
    for (;;) {
      const e = await this.next(ms);
      assert.ok(e, `the stream ended or sent nothing for ${ms} ms; events so far: ${seen.map((s) => `${s.event}#${s.id ?? ''}`).join(' ')}`);
      seen.push(e);
      if (stop(e)) return seen;
    }
  }

  private parse(end: boolean): void {
    this.buf = this.buf.replace(/\r\n?/g, '\n');
    let i = this.buf.indexOf('\n\n');
    while (i >= 0 || (end && this.buf.length > 0)) {
      const block = i >= 0 ? this.buf.slice(0, i) : this.buf;
      this.buf = i >= 0 ? this.buf.slice(i + 2) : '';
      const e: SseEvent = { event: 'message', data: '' };
      const data: string[] = [];
      let anyField = false;
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const c = line.indexOf(':');
        const field = c < 0 ? line : line.slice(0, c);
        let value = c < 0 ? '' : line.slice(c + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        anyField = true;
        if (field === 'event') e.event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id') e.id = value;
      }
      e.data = data.join('\n');
      if (anyField) this.queue.push(e);
      i = this.buf.indexOf('\n\n');
    }
  }

  close(): void {
    this.ctl.abort();
    this.reader?.cancel().catch(() => {});
  }
}

/** Asserts a problem document (RFC 9457) with the given status and code. */
export function assertProblem(a: Answer, status: number, code: string, what = ''): Wire {
  const at = what ? `${what}: ` : '';
  assert.equal(a.status, status, `${at}expected HTTP ${status} ${code}, got ${a.status} ${a.text.slice(0, 300)}`);
  const ct = a.headers.get('content-type') ?? '';
  assert.ok(ct.startsWith('application/problem+json'), `${at}content type ${ct}, expected application/problem+json`);
  assert.equal(a.json?.code, code, `${at}problem code ${a.json?.code}, expected ${code} (${a.text.slice(0, 300)})`);
  assert.equal(a.json?.status, status, `${at}problem member status ${a.json?.status}, expected ${status}`);
  assert.equal(typeof a.json?.title, 'string', `${at}problem has a title`);
  assert.equal(typeof a.json?.type, 'string', `${at}problem has a type`);
  return a.json;
}

export function assertStatus(a: Answer, status: number, what = ''): Wire {
  assert.equal(a.status, status, `${what ? `${what}: ` : ''}expected HTTP ${status}, got ${a.status} ${a.text.slice(0, 300)}`);
  return a.json;
}
