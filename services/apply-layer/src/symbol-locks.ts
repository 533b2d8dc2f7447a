import { randomBytes } from "node:crypto";
import { type Logger, sleep } from "@quantum/runtime";
import type { Redis } from "ioredis";
import { acquireSymbolLock, releaseSymbolLock } from "./symbol-lock.js";

/** TTL of a symbol lock; refreshed every third of it while held. */
export const LOCK_TTL_MS = 30_000;
/** How long a plan waits for another instance's lock before it is left for a later attempt. */
export const LOCK_WAIT_MAX_MS = 60_000;

/** A held symbol lock: its token, which the submit gate checks atomically before every order request. */
export interface LockHold {
  readonly token: string;
}

/**
 * The Redis symbol locks of this process (one plan in flight per symbol across instances). Tokens are
 * `<consumer>:<boot id>:<n>`: a restarted instance (same stable consumer name) takes over the locks its
 * killed earlier run left behind instead of waiting for them to expire.
 */
export class SymbolLocks {
  private readonly bootId = randomBytes(6).toString("hex");
  private seq = 0;

  constructor(
    private readonly redis: Redis,
    private readonly consumer: string,
    private readonly log: Logger,
  ) {}

  /**
   * Run `fn` holding the symbol's lock. Resolves `{ran: false}` when the lock could not be taken within
   * `maxWaitMs` (default LOCK_WAIT_MAX_MS; 0 = one attempt) or `signal` aborted the wait.
   */
  async withLock<T>(
    symbol: string,
    signal: AbortSignal,
    fn: (hold: LockHold) => Promise<T>,
    opts: { maxWaitMs?: number } = {},
  ): Promise<{ ran: true; value: T } | { ran: false }> {
    const token = `${this.consumer}:${this.bootId}:${++this.seq}`;
    const params = {
      symbol,
      token,
      ttlMs: LOCK_TTL_MS,
      takeoverPrefix: `${this.consumer}:`,
      selfPrefix: `${this.consumer}:${this.bootId}:`,
    };
    const deadline = Date.now() + (opts.maxWaitMs ?? LOCK_WAIT_MAX_MS);
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) return { ran: false };
      let busyMs = 100;
      try {
        const r = await acquireSymbolLock(this.redis, params);
        if (r.outcome === "acquired") break;
        busyMs = Math.max(10, Math.min(r.pttlMs, 100));
      } catch (err) {
        if (attempt === 0) this.log.warn({ err, symbol }, "symbol lock unavailable, retrying");
        busyMs = 200;
      }
      if (Date.now() + busyMs > deadline) {
        if (opts.maxWaitMs !== 0)
          this.log.warn({ symbol }, "symbol lock busy, plan left for a later attempt");
        return { ran: false };
      }
      await sleep(busyMs);
    }
    const hold: LockHold = { token };
    const refresh = setInterval(() => {
      acquireSymbolLock(this.redis, params).then(
        (r) => {
          if (r.outcome !== "busy") return;
          // The holder's submit gate refuses from now on (it checks the token atomically); work stops there.
          this.log.error({ symbol }, "symbol lock lost while held; no further order requests");
        },
        (err: unknown) => this.log.warn({ err, symbol }, "symbol lock refresh failed"),
      );
    }, LOCK_TTL_MS / 3);
    refresh.unref();
    try {
      return { ran: true, value: await fn(hold) };
    } finally {
      clearInterval(refresh);
      await releaseSymbolLock(this.redis, { symbol, token }).catch((err: unknown) => {
        this.log.warn({ err, symbol }, "symbol lock release failed (expires by TTL)");
      });
    }
  }
}
