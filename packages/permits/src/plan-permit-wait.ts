import { performance } from "node:perf_hooks";
import { keys } from "@quantum/contracts";
import type { Redis } from "ioredis";
import { consumePermits } from "./consume.js";
import type { ConsumeResult } from "./replies.js";
import type { GovernorBlock, PermitWaitEnd, PermitWaitParams, PermitWaitResult } from "./wait-types.js";

type Missing = Extract<ConsumeResult, { governorTtlMs: number }>;

/** Parse a governor block value: JSON object when possible, the raw text always. */
export function parseGovernorBlock(raw: string): GovernorBlock {
  let json: Record<string, unknown> | null = null;
  try {
    const v: unknown = JSON.parse(raw);
    if (v !== null && typeof v === "object" && !Array.isArray(v)) json = v as Record<string, unknown>;
  } catch {
    json = null;
  }
  const reason = json !== null && typeof json.reason === "string" ? json.reason : null;
  return { raw, json, reason };
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * One wait for the permits of one plan; the process-wide `PermitWaiter` creates one per plan and feeds it
 * keyspace notifications. Attempts are serialised (never two consumes of the same wait in
 * flight); kicks that arrive during an attempt coalesce into one follow-up attempt. An attempt in flight is
 * never abandoned: at the deadline or on abort its result is awaited, and a consume that succeeded wins.
 */
export class PlanPermitWait {
  readonly promise: Promise<PermitWaitResult>;
  private resolvePromise: (r: PermitWaitResult) => void = () => undefined;
  private readonly startedAt = performance.now();
  private attempts = 0;
  private inFlight = false;
  private again = false;
  private settled = false;
  private deadlinePassed = false;
  private abortRequested = false;
  private lastMissing: Missing | null = null;
  private lastError: Error | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private readonly onAbort = (): void => this.requestAbort();

  constructor(
    private readonly redis: Redis,
    private readonly params: PermitWaitParams,
    readonly channels: readonly string[],
    private readonly onDone: (w: PlanPermitWait) => void,
  ) {
    this.promise = new Promise((resolve) => {
      this.resolvePromise = resolve;
    });
  }

  get isSettled(): boolean {
    return this.settled;
  }

  /** Start the deadline and listen for abort. May end the wait at once (signal already aborted). */
  arm(): void {
    const { signal, maxWaitMs } = this.params;
    if (signal?.aborted) {
      this.finish({ outcome: "aborted", missing: null });
      return;
    }
    signal?.addEventListener("abort", this.onAbort, { once: true });
    this.deadlineTimer = setTimeout(() => this.onDeadline(), Math.max(0, maxWaitMs));
    this.deadlineTimer.unref();
  }

  /**
   * One consume attempt while the channels are still being subscribed: permits already written are consumed
   * without waiting for the subscription. `begin()` attempts again once it is live, so nothing written in
   * between is missed.
   */
  async tryFirst(): Promise<void> {
    if (this.settled || this.inFlight) return;
    this.inFlight = true;
    try {
      await this.attempt(false);
    } finally {
      this.inFlight = false;
    }
    if (this.settled) return;
    if (this.abortRequested) this.finish({ outcome: "aborted", missing: this.lastMissing?.outcome ?? null });
    else if (this.deadlinePassed) this.finishAtDeadline();
  }

  /** First attempt and the fallback poll; called once the notification channels are subscribed. */
  begin(): void {
    if (this.settled) return;
    this.pollTimer = setInterval(() => this.kick(), this.params.stepMs);
    this.pollTimer.unref();
    this.kick();
  }

  /** Attempt now (or right after the attempt in flight). */
  kick(): void {
    if (this.settled) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    void this.run();
  }

  private async run(): Promise<void> {
    this.inFlight = true;
    try {
      do {
        this.again = false;
        if (await this.attempt()) return;
      } while (this.again && !this.settled && !this.abortRequested && !this.deadlinePassed);
    } finally {
      this.inFlight = false;
    }
    if (this.settled) return;
    if (this.abortRequested) this.finish({ outcome: "aborted", missing: this.lastMissing?.outcome ?? null });
    else if (this.deadlinePassed) this.finishAtDeadline();
  }

  private onDeadline(): void {
    this.deadlineTimer = null;
    if (this.settled) return;
    this.deadlinePassed = true;
    // One final attempt gives the exact missing kind (or consumes permits that just arrived); an attempt
    // already in flight is that final attempt.
    if (!this.inFlight) this.kick();
  }

  private requestAbort(): void {
    if (this.settled) return;
    this.abortRequested = true;
    if (!this.inFlight) this.finish({ outcome: "aborted", missing: this.lastMissing?.outcome ?? null });
  }

  private finishAtDeadline(): void {
    const missing = this.lastMissing;
    if (this.lastError !== null) {
      this.finish({ outcome: "error", error: this.lastError, missing: missing?.outcome ?? null });
    } else if (missing !== null) {
      this.finish({
        outcome: "timeout",
        missing: missing.outcome,
        governorTtlMs: missing.governorTtlMs,
        p33TtlMs: missing.p33TtlMs,
      });
    } else {
      this.finish({ outcome: "timeout", missing: "missing_both", governorTtlMs: -2, p33TtlMs: -2 });
    }
  }

  /** One consume attempt, then (unless `stopKeys` is false) the stop keys when permits are missing; true when the wait ended. */
  private async attempt(stopKeys = true): Promise<boolean> {
    this.attempts += 1;
    const { planId, symbol, mode, execRecordTtlSec } = this.params;
    let res: ConsumeResult;
    try {
      res = await consumePermits(this.redis, { planId, symbol, mode, execRecordTtlSec });
    } catch (err) {
      this.lastError = toError(err);
      return false;
    }
    this.lastError = null;
    switch (res.outcome) {
      case "ok":
        this.finish({
          outcome: "ok",
          governorRaw: res.governorRaw,
          p33Raw: res.p33Raw,
          lastFill: res.lastFill,
        });
        return true;
      case "kill_switch_active":
      case "trading_state_halted":
      case "already_executed":
        this.finish({ outcome: res.outcome });
        return true;
      default:
        this.lastMissing = res;
        return stopKeys ? this.checkStopKeys(res.outcome !== "missing_p33") : false;
    }
  }

  /**
   * Permits are missing: stop at once when the Governor refused (block key, checked while its permit is
   * missing) or when another consumer already claimed the plan (execution record exists).
   */
  private async checkStopKeys(governorMissing: boolean): Promise<boolean> {
    const { planId } = this.params;
    const pipe = this.redis.pipeline().exists(keys.execRecord(planId));
    if (governorMissing) pipe.get(keys.governorBlock(planId));
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await pipe.exec();
    } catch (err) {
      this.lastError = toError(err);
      return false;
    }
    const [execReply, blockReply] = replies ?? [];
    const blockRaw = blockReply?.[1];
    if (blockReply?.[0] == null && typeof blockRaw === "string") {
      this.finish({ outcome: "governor_blocked", block: parseGovernorBlock(blockRaw) });
      return true;
    }
    if (execReply?.[0] == null && execReply?.[1] === 1) {
      this.finish({ outcome: "already_executed" });
      return true;
    }
    return false;
  }

  private finish(end: PermitWaitEnd): void {
    if (this.settled) return;
    this.settled = true;
    if (this.pollTimer !== null) clearInterval(this.pollTimer);
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.pollTimer = null;
    this.deadlineTimer = null;
    this.params.signal?.removeEventListener("abort", this.onAbort);
    this.onDone(this);
    this.resolvePromise({ ...end, waitMs: performance.now() - this.startedAt, attempts: this.attempts });
  }
}
