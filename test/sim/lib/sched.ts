/**
 * Virtual time: an event queue ordered by (time, insertion). Nothing waits
 * for real time; the simulator pops the next event, sets the clock to its
 * time and runs it.
 */
export interface SimEvent {
  at: number;
  seq: number;
  run: () => void | Promise<void>;
  cancelled: boolean;
}

export class Scheduler {
  /** Virtual milliseconds since the epoch. */
  now: number;
  /** Events ever scheduled (a cheap measure of activity). */
  scheduled = 0;
  private heap: SimEvent[] = [];
  private live = 0;
  /** Largest number of pending events seen. */
  maxPending = 0;

  constructor(start: number) {
    this.now = start;
  }

  get pending(): number {
    return this.live;
  }

  after(ms: number, run: () => void | Promise<void>): SimEvent {
    const ev: SimEvent = { at: this.now + Math.max(0, Math.floor(ms)), seq: this.scheduled++, run, cancelled: false };
    this.push(ev);
    this.live++;
    if (this.live > this.maxPending) this.maxPending = this.live;
    return ev;
  }

  cancel(ev: SimEvent | undefined): void {
    if (!ev || ev.cancelled) return;
    ev.cancelled = true;
    this.live--;
  }

  /** The next event due at or before `until`, removed from the queue; the clock moves to it. */
  pop(until: number): SimEvent | undefined {
    for (;;) {
      const top = this.heap[0];
      if (!top || top.at > until) return undefined;
      this.take();
      if (top.cancelled) continue;
      this.live--;
      top.cancelled = true;
      if (top.at > this.now) this.now = top.at;
      return top;
    }
  }

  private less(a: SimEvent, b: SimEvent): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(ev: SimEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i] as SimEvent, h[p] as SimEvent)) break;
      [h[i], h[p]] = [h[p] as SimEvent, h[i] as SimEvent];
      i = p;
    }
  }

  private take(): void {
    const h = this.heap;
    const last = h.pop() as SimEvent;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l] as SimEvent, h[m] as SimEvent)) m = l;
      if (r < h.length && this.less(h[r] as SimEvent, h[m] as SimEvent)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m] as SimEvent, h[i] as SimEvent];
      i = m;
    }
  }
}
