export interface SymbolQueueOptions {
  /** Most plans queued or running at once, counting slots reserved by intake (default unbounded). */
  capacity?: number;
  /** Called with the number of plans queued or running whenever it changes. */
  onDepth?: (depth: number) => void;
}

/**
 * One task in flight per symbol inside this process; symbols run concurrently. Tasks carry a key (the
 * plan_id) so the same plan is never queued twice. After `stop()` tasks that have not started are dropped
 * (their plans stay open in Redis and are resumed by the next start); running ones finish.
 *
 * The queue is bounded for intake: before taking a proposal, intake reserves a slot (`reserve`) and gives it
 * back once the proposal was handled (`release`); a plan enqueued meanwhile holds its own place. While no slot
 * is free intake takes nothing (`whenFree` resolves when one may be). Plans already published (startup
 * recovery, the periodic sweep) are enqueued whatever the bound, so a plan that must run is never refused.
 */
export class SymbolQueue {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly keys = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private freed: { promise: Promise<void>; resolve: () => void } | null = null;
  private readonly capacity: number;
  private readonly onDepth: (depth: number) => void;
  private reserved = 0;
  private stopped = false;

  constructor(
    private readonly onError: (err: unknown, key: string) => void,
    opts: SymbolQueueOptions = {},
  ) {
    this.capacity = opts.capacity ?? Number.POSITIVE_INFINITY;
    this.onDepth = opts.onDepth ?? (() => undefined);
  }

  /** Queue `task` behind the symbol's current work. False when the key is already queued or the queue stopped. */
  enqueue(symbol: string, key: string, task: () => Promise<void>): boolean {
    if (this.stopped || this.keys.has(key)) return false;
    this.keys.add(key);
    this.onDepth(this.keys.size);
    const prev = this.tails.get(symbol) ?? Promise.resolve();
    const run = async (): Promise<void> => {
      if (this.stopped) return;
      const p = task();
      this.running.add(p);
      try {
        await p;
      } finally {
        this.running.delete(p);
      }
    };
    const next = prev
      .then(run)
      .catch((err: unknown) => this.onError(err, key))
      .finally(() => {
        this.keys.delete(key);
        if (this.tails.get(symbol) === next) this.tails.delete(symbol);
        this.onDepth(this.keys.size);
        this.notifyFreed();
      });
    this.tails.set(symbol, next);
    return true;
  }

  /** Whether a plan is queued or running here. */
  has(key: string): boolean {
    return this.keys.has(key);
  }

  /** Plans queued or running. */
  get size(): number {
    return this.keys.size;
  }

  /** Tasks running right now. */
  get active(): number {
    return this.running.size;
  }

  /** Slots free for intake: capacity minus plans queued or running minus slots reserved. */
  get free(): number {
    return Math.max(0, this.capacity - this.keys.size - this.reserved);
  }

  /** Take up to `wanted` slots now; returns how many were taken (0 when the queue is full or stopped). */
  reserve(wanted: number): number {
    if (this.stopped) return 0;
    const n = Math.max(0, Math.min(wanted, this.free));
    this.reserved += n;
    return n;
  }

  /** Give back `n` reserved slots. */
  release(n: number): void {
    if (n <= 0) return;
    this.reserved = Math.max(0, this.reserved - n);
    this.notifyFreed();
  }

  /** Resolves at once when a slot is free, else when one may have become free (a plan ended, a slot returned). */
  whenFree(): Promise<void> {
    if (this.free > 0 || this.stopped) return Promise.resolve();
    if (this.freed === null) {
      let resolve = (): void => undefined;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.freed = { promise, resolve };
    }
    return this.freed.promise;
  }

  /** Drop tasks that have not started; resolves when the running ones finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.notifyFreed();
    await Promise.allSettled([...this.tails.values()]);
  }

  /** Resolves when everything queued so far has run (tests, startup recovery). */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.allSettled([...this.tails.values()]);
  }

  private notifyFreed(): void {
    const freed = this.freed;
    this.freed = null;
    freed?.resolve();
  }
}
