/** One limit of the venue: at most `limit` units in an interval of `intervalMs`. */
export interface RateLimitSpec {
  limit: number;
  intervalMs: number;
}

/** What a window reports for metrics and tests. */
export interface RateWindowState {
  /** The venue's limit for the whole account / IP. */
  limit: number;
  /** This process's part of it (limit × share). */
  budget: number;
  intervalMs: number;
  /** Units this process sent (or is sending) in the last interval. */
  used: number;
  /** Units others used, learned from the venue's headers, in the last interval. */
  external: number;
  /** Units of requests sent and not answered yet. */
  inFlight: number;
}

interface Slot {
  cost: number;
  atMs: number;
}

/**
 * A sliding-window counter for one venue limit. The venue counts in fixed intervals aligned to its own
 * clock; keeping at most `budget` units in *every* interval of `intervalMs` keeps under it whatever the
 * alignment, where a token bucket of the same rate would let up to twice the limit into one fixed interval.
 *
 * A unit is charged when its request is sent and stays charged until `intervalMs` after its answer (the
 * answer arrives after the venue counted it), so network delay never moves two requests of one interval
 * into what the venue sees as fewer. The venue's own count (a header such as X-MBX-ORDER-COUNT-10S) is the
 * truth: when it is higher than ours, the difference is another client's use and is charged as `external`.
 * The process keeps to its `budget`; together with the external use it keeps to the full `limit`.
 *
 * Until the venue's count is known (nothing answered within the last interval), one request at a time is
 * sent, so a cold start next to a busy account learns the count before it bursts.
 */
export class RateWindow {
  readonly limit: number;
  readonly budget: number;
  readonly intervalMs: number;
  private inFlight = 0;
  /** Own answered requests, ordered by answer time (a monotonic clock keeps pushes in order). */
  private readonly answered: Slot[] = [];
  private answeredSum = 0;
  /** Others' use learned from headers, ordered by observation time. */
  private readonly external: Slot[] = [];
  private externalSum = 0;
  private lastAnswerMs = Number.NEGATIVE_INFINITY;

  constructor(spec: RateLimitSpec, sharePct = 100) {
    if (!(Number.isInteger(spec.limit) && spec.limit > 0 && spec.intervalMs > 0))
      throw new RangeError("a rate limit needs a positive integer limit and a positive interval");
    if (!(sharePct > 0 && sharePct <= 100)) throw new RangeError("the share must be in (0, 100] percent");
    this.limit = spec.limit;
    this.budget = Math.max(1, Math.floor((spec.limit * sharePct) / 100));
    this.intervalMs = spec.intervalMs;
  }

  /** Whether `cost` more units may be sent at `nowMs`. */
  fits(cost: number, nowMs: number): boolean {
    this.expire(nowMs);
    if (cost === 0) return true;
    if (!this.known(nowMs) && this.inFlight > 0) return false;
    const own = this.inFlight + this.answeredSum;
    // A request heavier than the budget goes alone, into an otherwise empty window.
    if (cost > this.budget) return own === 0 && this.externalSum === 0;
    return own + cost <= this.budget && own + this.externalSum + cost <= this.limit;
  }

  /**
   * Earliest time `cost` units fit if nothing else is sent: when enough answered and external units have
   * expired. Infinity when only answers of requests in flight can free room.
   */
  nextFitMs(cost: number, nowMs: number): number {
    if (this.fits(cost, nowMs)) return nowMs;
    if (!this.known(nowMs) && this.inFlight > 0) return Number.POSITIVE_INFINITY;
    const needOwn =
      cost > this.budget
        ? this.inFlight + this.answeredSum
        : this.inFlight + this.answeredSum + cost - this.budget;
    const needAll =
      cost > this.budget
        ? this.inFlight + this.answeredSum + this.externalSum
        : this.inFlight + this.answeredSum + this.externalSum + cost - this.limit;
    let freedOwn = 0;
    let freedAll = 0;
    let i = 0;
    let j = 0;
    while (freedOwn < needOwn || freedAll < needAll) {
      const a = this.answered[i];
      const e = this.external[j];
      if (a === undefined && e === undefined) return Number.POSITIVE_INFINITY;
      let at: number;
      if (e === undefined || (a !== undefined && a.atMs <= e.atMs)) {
        at = (a as Slot).atMs;
        freedOwn += (a as Slot).cost;
        freedAll += (a as Slot).cost;
        i += 1;
      } else {
        at = e.atMs;
        freedAll += e.cost;
        j += 1;
      }
      if (freedOwn >= needOwn && freedAll >= needAll) return at + this.intervalMs;
    }
    return nowMs;
  }

  /** Charge `cost` units for a request being sent now. */
  take(cost: number): void {
    this.inFlight += cost;
  }

  /** The request charged with `cost` was answered (or given up) at `nowMs`. */
  settle(cost: number, nowMs: number): void {
    if (cost === 0) return;
    this.inFlight -= cost;
    this.lastAnswerMs = Math.max(this.lastAnswerMs, nowMs);
    this.answered.push({ cost, atMs: nowMs });
    this.answeredSum += cost;
  }

  /** The venue reported `count` units used in its current interval. */
  observe(count: number, nowMs: number): void {
    this.expire(nowMs);
    this.lastAnswerMs = Math.max(this.lastAnswerMs, nowMs);
    const extra = count - (this.inFlight + this.answeredSum + this.externalSum);
    if (extra > 0) {
      this.external.push({ cost: extra, atMs: nowMs });
      this.externalSum += extra;
    }
  }

  state(nowMs: number): RateWindowState {
    this.expire(nowMs);
    return {
      limit: this.limit,
      budget: this.budget,
      intervalMs: this.intervalMs,
      used: this.inFlight + this.answeredSum,
      external: this.externalSum,
      inFlight: this.inFlight,
    };
  }

  private known(nowMs: number): boolean {
    return nowMs - this.lastAnswerMs < this.intervalMs;
  }

  private expire(nowMs: number): void {
    const cutoff = nowMs - this.intervalMs;
    while (this.answered.length > 0 && (this.answered[0] as Slot).atMs <= cutoff) {
      this.answeredSum -= (this.answered.shift() as Slot).cost;
    }
    while (this.external.length > 0 && (this.external[0] as Slot).atMs <= cutoff) {
      this.externalSum -= (this.external.shift() as Slot).cost;
    }
  }
}
