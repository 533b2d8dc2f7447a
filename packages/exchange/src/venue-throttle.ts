import { type RateLimitSpec, RateWindow, type RateWindowState } from "./rate-window.js";

/** The limits a throttle keeps to, by name (e.g. weight1m, orders10s, orders1m). */
export type VenueLimits<K extends string> = Record<K, RateLimitSpec>;

/** Units a request costs against each limit (missing = 0). */
export type RequestCost<K extends string> = Partial<Record<K, number>>;

export interface AcquireOptions {
  /** Give up when the wait would be longer (ms); the request is then not sent. Default: the throttle's. */
  maxWaitMs?: number;
  /** Abort the wait (the request is then not sent). */
  signal?: AbortSignal;
}

/** Permission to send one request; call `settle()` once its answer arrived (or it was given up). */
export interface ThrottleGrant {
  ok: true;
  waitedMs: number;
  settle(): void;
}

/** The request may not be sent: the wait would pass the bound, or it was aborted. Nothing was sent. */
export interface ThrottleRefusal {
  ok: false;
  reason: "wouldExceedMaxWait" | "aborted";
  /** Estimated wait until it could be sent (ms). */
  retryAfterMs: number;
  waitedMs: number;
}

export interface VenueThrottleState<K extends string> {
  windows: Record<K, RateWindowState>;
  /** Retry-After of a 429 / 418 in force until this time (ms of the throttle's clock), or 0. */
  blockedUntilMs: number;
  /** Requests waiting for room. */
  waiting: number;
}

export interface VenueThrottleOptions<K extends string> {
  limits: VenueLimits<K>;
  /** Percentage of every limit this process may use (the rest is left to other processes). Default 100. */
  sharePct?: number;
  /** Default bound of a wait (ms). Default 1000. */
  maxWaitMs?: number;
  /** Monotonic clock in ms. Default performance.now. */
  now?: () => number;
}

interface Waiter<K extends string> {
  cost: RequestCost<K>;
  sinceMs: number;
  resolve(r: ThrottleGrant | ThrottleRefusal): void;
  cleanup(): void;
}

/**
 * The local rate gate in front of a venue: every request acquires before it is sent, waits (FIFO per
 * limit) until every limit it costs has room, and settles when answered. `block()` holds all requests
 * until a Retry-After has passed. A wait is bounded and abortable; a refused wait means not sent.
 */
/** Granularity of Node's timers against performance.now() (ms). */
const TIMER_SLACK_MS = 2;

export class VenueThrottle<K extends string> {
  readonly sharePct: number;
  readonly maxWaitMs: number;
  private readonly windows: Record<K, RateWindow>;
  private readonly names: readonly K[];
  private readonly now: () => number;
  private readonly queue: Waiter<K>[] = [];
  private blockedUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(opts: VenueThrottleOptions<K>) {
    this.sharePct = opts.sharePct ?? 100;
    this.maxWaitMs = opts.maxWaitMs ?? 1_000;
    if (!(this.maxWaitMs >= 0)) throw new RangeError("maxWaitMs must be >= 0");
    this.now = opts.now ?? (() => performance.now());
    this.names = Object.keys(opts.limits) as K[];
    const windows = {} as Record<K, RateWindow>;
    for (const name of this.names) windows[name] = new RateWindow(opts.limits[name], this.sharePct);
    this.windows = windows;
  }

  /** Wait for room for one request of `cost`; resolves with a grant, or a refusal (not sent). */
  acquire(cost: RequestCost<K>, opts: AcquireOptions = {}): Promise<ThrottleGrant | ThrottleRefusal> {
    const sinceMs = this.now();
    const maxWaitMs = opts.maxWaitMs ?? this.maxWaitMs;
    if (opts.signal?.aborted === true) {
      return Promise.resolve({ ok: false, reason: "aborted", retryAfterMs: 0, waitedMs: 0 });
    }
    if (this.queue.length === 0 && sinceMs >= this.blockedUntil && this.fitsAll(cost, sinceMs)) {
      return Promise.resolve(this.grant(cost, sinceMs));
    }
    const eta = this.etaMs(cost, sinceMs);
    if (Number.isFinite(eta) && eta - sinceMs > maxWaitMs) {
      const retryAfterMs = Math.ceil(eta - sinceMs);
      return Promise.resolve({ ok: false, reason: "wouldExceedMaxWait", retryAfterMs, waitedMs: 0 });
    }
    return new Promise((resolve) => {
      const onAbort = (): void => this.drop(waiter, "aborted");
      // The bound's timer and the wake-up timer can fire within the same millisecond in either order, and a
      // timer can fire a fraction of a millisecond before performance.now() reaches its time: grant what fits
      // first, and give the bound the timers' granularity, so a request due at the bound is not refused.
      const bound = setTimeout(() => {
        this.pump();
        this.drop(waiter, "wouldExceedMaxWait");
      }, maxWaitMs + TIMER_SLACK_MS);
      const waiter: Waiter<K> = {
        cost,
        sinceMs,
        resolve,
        cleanup: () => {
          clearTimeout(bound);
          opts.signal?.removeEventListener("abort", onAbort);
        },
      };
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.push(waiter);
      this.pump();
    });
  }

  /** Hold every request until `retryAfterMs` from now (a 429 / 418 answer's Retry-After). */
  block(retryAfterMs: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, this.now() + retryAfterMs);
    this.pump();
  }

  /** The venue's count for one limit, from a response header. */
  observe(name: K, count: number): void {
    this.windows[name].observe(count, this.now());
    this.pump();
  }

  state(): VenueThrottleState<K> {
    const nowMs = this.now();
    const windows = {} as Record<K, RateWindowState>;
    for (const name of this.names) windows[name] = this.windows[name].state(nowMs);
    return {
      windows,
      blockedUntilMs: this.blockedUntil > nowMs ? this.blockedUntil : 0,
      waiting: this.queue.length,
    };
  }

  private fitsAll(cost: RequestCost<K>, nowMs: number): boolean {
    return this.names.every((n) => this.windows[n].fits(cost[n] ?? 0, nowMs));
  }

  private grant(cost: RequestCost<K>, sinceMs: number): ThrottleGrant {
    for (const n of this.names) this.windows[n].take(cost[n] ?? 0);
    let settled = false;
    return {
      ok: true,
      waitedMs: this.now() - sinceMs,
      settle: () => {
        if (settled) return;
        settled = true;
        const at = this.now();
        for (const n of this.names) this.windows[n].settle(cost[n] ?? 0, at);
        this.pump();
      },
    };
  }

  private drop(waiter: Waiter<K>, reason: ThrottleRefusal["reason"]): void {
    const i = this.queue.indexOf(waiter);
    if (i < 0) return;
    this.queue.splice(i, 1);
    waiter.cleanup();
    const nowMs = this.now();
    waiter.resolve({
      ok: false,
      reason,
      retryAfterMs: this.retryAfterMs(waiter.cost, nowMs),
      waitedMs: nowMs - waiter.sinceMs,
    });
    this.pump();
  }

  /** How long a refused request should wait before trying again (an estimate, at least 1 ms). */
  private retryAfterMs(cost: RequestCost<K>, nowMs: number): number {
    const eta = this.etaMs(cost, nowMs);
    const fallback = Math.min(...this.names.map((n) => this.windows[n].intervalMs));
    return Math.max(1, Math.ceil((Number.isFinite(eta) ? eta : nowMs + fallback) - nowMs));
  }

  /** Earliest time `cost` could be sent if nothing else were (Infinity: only answers can make room). */
  private etaMs(cost: RequestCost<K>, nowMs: number): number {
    let at = Math.max(nowMs, this.blockedUntil);
    for (const n of this.names) at = Math.max(at, this.windows[n].nextFitMs(cost[n] ?? 0, nowMs));
    return at;
  }

  /**
   * Grant every waiter that fits, in order. A waiter that does not fit holds back later waiters on the
   * same limits (no overtaking there), while requests on other limits go on. Then arm one timer for the
   * earliest time a held waiter could fit; answers (settle) and headers pump again.
   */
  private pump(): void {
    const nowMs = this.now();
    let wakeAt = Number.POSITIVE_INFINITY;
    if (nowMs < this.blockedUntil) {
      wakeAt = this.queue.length > 0 ? this.blockedUntil : wakeAt;
    } else {
      const held = new Set<K>();
      for (let i = 0; i < this.queue.length; ) {
        const w = this.queue[i] as Waiter<K>;
        const uses = this.names.filter((n) => (w.cost[n] ?? 0) > 0);
        if (!uses.some((n) => held.has(n)) && this.fitsAll(w.cost, nowMs)) {
          this.queue.splice(i, 1);
          w.cleanup();
          w.resolve(this.grant(w.cost, w.sinceMs));
          continue;
        }
        if (!uses.some((n) => held.has(n))) wakeAt = Math.min(wakeAt, this.etaMs(w.cost, nowMs));
        for (const n of uses) held.add(n);
        i += 1;
      }
    }
    this.arm(wakeAt, nowMs);
  }

  /** One timer for the next wake-up; it is armed only while requests wait (pending work keeps it alive). */
  private arm(atMs: number, nowMs: number): void {
    if (atMs === this.timerAt && this.timer !== null) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = atMs;
    if (!Number.isFinite(atMs)) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.pump();
      },
      Math.max(1, Math.ceil(atMs - nowMs)),
    );
  }
}
