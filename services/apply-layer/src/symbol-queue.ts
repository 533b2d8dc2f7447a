/**
 * One task in flight per symbol inside this process; symbols run concurrently. Tasks carry a key (the
 * plan_id) so the same plan is never queued twice. After `stop()` tasks that have not started are dropped
 * (their plans stay open in Redis and are resumed by the next start); running ones finish.
 */
export class SymbolQueue {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly keys = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly onError: (err: unknown, key: string) => void) {}

  /** Queue `task` behind the symbol's current work. False when the key is already queued or the queue stopped. */
  enqueue(symbol: string, key: string, task: () => Promise<void>): boolean {
    if (this.stopped || this.keys.has(key)) return false;
    this.keys.add(key);
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

  /** Drop tasks that have not started; resolves when the running ones finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.tails.values()]);
  }

  /** Resolves when everything queued so far has run (tests, startup recovery). */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.allSettled([...this.tails.values()]);
  }
}
