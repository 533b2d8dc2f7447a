/**
 * The venue's rate limits as Binance USDⓈ-M documents them (developers.binance.com, USDⓈ-M Futures →
 * General Info → Limits, and the "Request Weight" line of each endpoint):
 * - request weight per IP, counted in fixed 1-minute intervals (2,400); every answer carries the count in
 *   X-MBX-USED-WEIGHT-1M;
 * - orders per account, counted in fixed 10-second (300) and 1-minute (1,200) intervals; order answers carry
 *   X-MBX-ORDER-COUNT-10S / X-MBX-ORDER-COUNT-1M;
 * - past a limit the request is answered 429 with Retry-After (-1003 for weight, -1015 for orders); a client
 *   that keeps sending during the Retry-After it was given is banned: 418 with Retry-After, for 2 minutes
 *   on the first ban, doubling for repeat offenders up to 3 days.
 */

/** One limit: at most `limit` units in each fixed interval of `intervalMs` (aligned to the epoch). */
export interface FakeRateLimit {
  limit: number;
  intervalMs: number;
}

export interface FakeRateLimits {
  /** Request weight per IP (X-MBX-USED-WEIGHT-1M). */
  weight: FakeRateLimit;
  /** Orders per account, short interval (X-MBX-ORDER-COUNT-10S). */
  ordersShort: FakeRateLimit;
  /** Orders per account, long interval (X-MBX-ORDER-COUNT-1M). */
  ordersLong: FakeRateLimit;
  /** Requests sent during a Retry-After that the fake answered with 429 before it bans with 418. */
  banAfterViolations: number;
  /** Length of the first ban (doubles on each further ban, up to 3 days). */
  banMs: number;
  /**
   * Requests arriving this long after the 429 that started a Retry-After are not counted toward a ban: a
   * client sending concurrently had them on the way before it could read the 429. Default 0 (every one).
   */
  inFlightGraceMs: number;
}

export const BINANCE_USDM_RATE_LIMITS: FakeRateLimits = {
  weight: { limit: 2400, intervalMs: 60_000 },
  ordersShort: { limit: 300, intervalMs: 10_000 },
  ordersLong: { limit: 1200, intervalMs: 60_000 },
  banAfterViolations: 3,
  banMs: 120_000,
  inFlightGraceMs: 0,
};

const MAX_BAN_MS = 3 * 24 * 3_600_000;

/** How a request fared against the limits: admitted, or answered 429 / 418 with a Binance error. */
export type Admission =
  | { kind: "ok" }
  | { kind: "refused"; status: 429 | 418; code: number; msg: string; retryAfterSec: number };

class FixedWindow {
  private index = -1;
  count = 0;

  constructor(readonly spec: FakeRateLimit) {}

  roll(nowMs: number): void {
    const i = Math.floor(nowMs / this.spec.intervalMs);
    if (i !== this.index) {
      this.index = i;
      this.count = 0;
    }
  }

  endsAt(): number {
    return (this.index + 1) * this.spec.intervalMs;
  }

  reset(): void {
    this.index = -1;
    this.count = 0;
  }
}

/** "1 MINUTE", "10 SECOND", "500 MILLISECOND": the interval as Binance's messages name it. */
function intervalText(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} MINUTE`;
  if (ms % 1000 === 0) return `${ms / 1000} SECOND`;
  return `${ms} MILLISECOND`;
}

/** Counts weight and orders in the venue's fixed intervals and decides 200 / 429 / 418. */
export class FakeRateLimiter {
  readonly limits: FakeRateLimits;
  private readonly weight: FixedWindow;
  private readonly ordersShort: FixedWindow;
  private readonly ordersLong: FixedWindow;
  /** End of the Retry-After given with the last weight 429 / order 429. */
  private weightBackoffUntil = 0;
  private orderBackoffUntil = 0;
  /** When the Retry-After in force was first given (ms). */
  private backoffSince = 0;
  private violations = 0;
  private bannedUntil = 0;
  private bans = 0;

  constructor(limits: Partial<FakeRateLimits> = {}) {
    this.limits = { ...BINANCE_USDM_RATE_LIMITS, ...limits };
    for (const [name, l] of Object.entries({
      weight: this.limits.weight,
      ordersShort: this.limits.ordersShort,
      ordersLong: this.limits.ordersLong,
    })) {
      if (!(l.limit > 0 && l.intervalMs > 0)) throw new Error(`rate limit ${name} must be positive`);
    }
    this.weight = new FixedWindow(this.limits.weight);
    this.ordersShort = new FixedWindow(this.limits.ordersShort);
    this.ordersLong = new FixedWindow(this.limits.ordersLong);
  }

  /**
   * Admit one request of `weight` (and one order when `order`) at `nowMs`. Weight is counted for every
   * request that reaches the limiter (as the venue does); an order only when it is admitted.
   */
  admit(weight: number, order: boolean, nowMs: number): Admission {
    this.roll(nowMs);
    if (nowMs < this.bannedUntil) return this.banned(nowMs);
    const inBackoff = nowMs < this.weightBackoffUntil || (order && nowMs < this.orderBackoffUntil);
    if (inBackoff && nowMs - this.backoffSince >= this.limits.inFlightGraceMs) {
      this.violations += 1;
      if (this.violations >= this.limits.banAfterViolations) {
        const ms = Math.min(MAX_BAN_MS, this.limits.banMs * 2 ** this.bans);
        this.bans += 1;
        this.violations = 0;
        this.bannedUntil = nowMs + ms;
        return this.banned(nowMs);
      }
    }
    this.weight.count += weight;
    if (this.weight.count > this.limits.weight.limit) {
      const l = this.limits.weight;
      return this.tooMany(
        -1003,
        `Too much request weight used; current limit is ${l.limit} request weight per ${intervalText(l.intervalMs)}. Please use WebSocket Streams for live updates to avoid polling the API.`,
        this.weight.endsAt(),
        nowMs,
        "weight",
      );
    }
    if (order) {
      for (const w of [this.ordersShort, this.ordersLong]) {
        if (w.count + 1 > w.spec.limit) {
          return this.tooMany(
            -1015,
            `Too many new orders; current limit is ${w.spec.limit} orders per ${intervalText(w.spec.intervalMs)}.`,
            w.endsAt(),
            nowMs,
            "order",
          );
        }
      }
      this.ordersShort.count += 1;
      this.ordersLong.count += 1;
    }
    return { kind: "ok" };
  }

  /** Usage by another client of the same IP / account (a second process), counted in the current intervals. */
  addUsage(usage: { weight?: number; orders?: number }, nowMs: number): void {
    this.roll(nowMs);
    this.weight.count += usage.weight ?? 0;
    this.ordersShort.count += usage.orders ?? 0;
    this.ordersLong.count += usage.orders ?? 0;
  }

  /** The counts the headers report at `nowMs`. */
  counts(nowMs: number): { weight: number; ordersShort: number; ordersLong: number } {
    this.roll(nowMs);
    return {
      weight: this.weight.count,
      ordersShort: this.ordersShort.count,
      ordersLong: this.ordersLong.count,
    };
  }

  /** Forget all counts, back-offs and bans. */
  reset(): void {
    for (const w of [this.weight, this.ordersShort, this.ordersLong]) w.reset();
    this.weightBackoffUntil = 0;
    this.orderBackoffUntil = 0;
    this.backoffSince = 0;
    this.violations = 0;
    this.bannedUntil = 0;
    this.bans = 0;
  }

  private roll(nowMs: number): void {
    this.weight.roll(nowMs);
    this.ordersShort.roll(nowMs);
    this.ordersLong.roll(nowMs);
  }

  private tooMany(
    code: number,
    msg: string,
    untilMs: number,
    nowMs: number,
    limit: "weight" | "order",
  ): Admission {
    if (nowMs >= this.weightBackoffUntil && nowMs >= this.orderBackoffUntil) this.backoffSince = nowMs;
    if (limit === "weight") this.weightBackoffUntil = Math.max(this.weightBackoffUntil, untilMs);
    else this.orderBackoffUntil = Math.max(this.orderBackoffUntil, untilMs);
    const retryAfterSec = Math.max(1, Math.ceil((untilMs - nowMs) / 1000));
    return { kind: "refused", status: 429, code, msg, retryAfterSec };
  }

  private banned(nowMs: number): Admission {
    return {
      kind: "refused",
      status: 418,
      code: -1003,
      msg: `Way too much request weight used; IP banned until ${this.bannedUntil}. Please use WebSocket Streams for live updates to avoid bans.`,
      retryAfterSec: Math.max(1, Math.ceil((this.bannedUntil - nowMs) / 1000)),
    };
  }
}
