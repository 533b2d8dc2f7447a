import type { ApplyPlan } from "@quantum/contracts";
import type { ApplyMetrics } from "@quantum/metrics";
import {
  claimExecution,
  type PermitWaitEnd,
  type PermitWaiter,
  type PermitWaitResult,
  waitAndConsumePermits,
} from "@quantum/permits";
import type { Logger } from "@quantum/runtime";
import type { Redis } from "ioredis";
import type { ApplyConfig } from "../config.js";
import { type Stop, stopWith } from "./stop.js";

/** Both permits as consumed (raw JSON values), judged afterwards by the OrderPlanner. */
export type ConsumedPermits = Extract<PermitWaitResult, { outcome: "ok" }>;

/** How the claim of a plan ended. */
export type ClaimOutcome =
  /** The execution record is CLAIMED and owned by the caller; `permits` is null on the TESTNET bypass. */
  | { kind: "claimed"; permits: ConsumedPermits | null; waitMs: number }
  /** Nothing claimed: the plan ends with `stop` (published only if nobody claimed it meanwhile). */
  | { kind: "unclaimed"; stop: Stop; waitMs: number }
  /** Someone (another consumer, our earlier run) claimed it: its record tells the result. */
  | { kind: "claimedElsewhere"; waitMs: number }
  /** Shutdown cut the wait: the plan stays open for the next start. */
  | { kind: "aborted"; waitMs: number };

export interface PlanClaimerOptions {
  redis: Redis;
  waiter: PermitWaiter;
  cfg: ApplyConfig;
  metrics: ApplyMetrics;
  log: Logger;
}

/**
 * Claims a plan's execution: the event-driven wait for both permits and their atomic consume (which also
 * checks the kill switch and the trading state and lists the record in the open-execution index), or, on the
 * TESTNET bypass only, a claim without permits.
 */
export class PlanClaimer {
  constructor(private readonly o: PlanClaimerOptions) {}

  async claim(plan: ApplyPlan, signal: AbortSignal): Promise<ClaimOutcome> {
    const { cfg, log, metrics, redis } = this.o;
    const base = { planId: plan.planId, symbol: plan.symbol };
    if (cfg.testnetBypass) {
      const claim = await claimExecution(redis, {
        ...base,
        mode: cfg.mode,
        execRecordTtlSec: cfg.execRecordTtlSec,
      });
      log.warn(
        { ...base, outcome: claim.outcome },
        "TESTNET MODE - permit bypass claim (NO PRODUCTION USAGE)",
      );
      if (claim.outcome === "ok") return { kind: "claimed", permits: null, waitMs: 0 };
      return this.unclaimed({ outcome: claim.outcome }, 0);
    }
    const waited = await waitAndConsumePermits({
      redis,
      waiter: this.o.waiter,
      ...base,
      maxWaitMs: cfg.permitWaitMs,
      stepMs: cfg.permitStepMs,
      mode: cfg.mode,
      execRecordTtlSec: cfg.execRecordTtlSec,
      signal,
    });
    metrics.permitWaitMs.set(waited.waitMs);
    metrics.permitWaitSeconds.observe(waited.waitMs / 1000);
    log.info({ ...base, outcome: waited.outcome, waitMs: Math.round(waited.waitMs) }, "permit wait ended");
    if (waited.outcome === "ok") return { kind: "claimed", permits: waited, waitMs: waited.waitMs };
    return this.unclaimed(waited, waited.waitMs);
  }

  private unclaimed(waited: PermitWaitEnd, waitMs: number): ClaimOutcome {
    const { metrics } = this.o;
    switch (waited.outcome) {
      case "ok":
      case "already_executed":
        return { kind: "claimedElsewhere", waitMs };
      case "aborted":
        return { kind: "aborted", waitMs };
      case "kill_switch_active":
      case "trading_state_halted":
        metrics.executed.inc({ status: "kill_switch" });
        metrics.killSwitchActive.set(1);
        return {
          kind: "unclaimed",
          waitMs,
          stop: stopWith("BLOCKED", waited.outcome, { checked: "consume_script" }),
        };
      case "governor_blocked": {
        metrics.governorBlock.inc({ reason: "governor_blocked" });
        const governor = waited.block.reason ?? waited.block.raw;
        return {
          kind: "unclaimed",
          waitMs,
          stop: stopWith("BLOCKED", "governor_blocked", { governor }),
        };
      }
      case "timeout": {
        const missing = waited.missing ?? "missing_both";
        return {
          kind: "unclaimed",
          waitMs,
          stop: stopWith("BLOCKED", `permit_timeout_or_missing:${missing}`, {
            waited_ms: Math.round(waitMs),
            governor_ttl_ms: waited.governorTtlMs,
            p33_ttl_ms: waited.p33TtlMs,
          }),
        };
      }
      case "error":
        metrics.executed.inc({ status: "error" });
        return {
          kind: "unclaimed",
          waitMs,
          stop: stopWith("ERROR", "internal_error", {
            failed: "permit_wait",
            error: waited.error.message,
          }),
        };
    }
  }
}
