import { DECISIONS, EXECUTED_STATUSES, P33_DENY_REASONS } from "@quantum/contracts";
import type { Counter, Gauge, Histogram, Registry } from "prom-client";
import { defineCounter, defineGauge, defineHistogram, zeroCounter } from "./define.js";

/** Buckets of the permit wait: 1 ms .. 2 s (the wait is bounded by APPLY_PERMIT_WAIT_MS, default 1.2 s). */
export const PERMIT_WAIT_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2,
] as const;
/** Buckets of an exchange order round trip: 5 ms .. 10 s. */
export const ORDER_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Apply Layer metrics (SPEC §3.1). Names are exact: dashboards and alert rules of the seed use them. */
export interface ApplyMetrics {
  /** p33_permit_deny_total{reason} — P3.3 denies seen by the Apply Layer (reason = P3.3 deny reason). */
  p33PermitDeny: Counter<"reason">;
  /** p33_permit_allow_total — P3.3 allows seen by the Apply Layer. */
  p33PermitAllow: Counter;
  /** governor_block_total{reason} — plans stopped by the Governor (bounded reason code). */
  governorBlock: Counter<"reason">;
  /** apply_executed_total{status} — status ∈ EXECUTED_STATUSES. */
  executed: Counter<"status">;
  /** apply_plan_processed_total{decision} — decision ∈ EXECUTE|SKIP|BLOCKED|ERROR. */
  planProcessed: Counter<"decision">;
  /** permit_wait_ms — last permit wait in milliseconds (gauge, seed compatibility). */
  permitWaitMs: Gauge;
  /** position_mismatch_seconds — seconds the exchange and ledger positions have disagreed (0 = match). */
  positionMismatchSeconds: Gauge;
  /** apply_permit_wait_seconds — permit wait duration. */
  permitWaitSeconds: Histogram;
  /** apply_order_latency_seconds — order send → exchange answer. */
  orderLatencySeconds: Histogram;
  /** quantum_apply_plan_total{symbol,decision} — plans published per symbol and decision. */
  plan: Counter<"symbol" | "decision">;
  /** quantum_apply_dedupe_hits_total — proposals skipped because their plan_id was already handled. */
  dedupeHits: Counter;
  /** apply_kill_switch_active — 1 while the kill switch (or HALTED trading state) blocks execution. */
  killSwitchActive: Gauge;
  /**
   * apply_protective_stop_missing{symbol} — 1 while a position this system protected has no protective stop
   * (the replacement was refused and the old stop could not be placed again); 0 once a stop works again.
   */
  protectiveStopMissing: Gauge<"symbol">;
}

export function createApplyMetrics(registry: Registry): ApplyMetrics {
  const m: ApplyMetrics = {
    p33PermitDeny: defineCounter(
      registry,
      "p33_permit_deny_total",
      "P3.3 permits that denied a plan, by P3.3 deny reason.",
      ["reason"],
    ),
    p33PermitAllow: defineCounter(registry, "p33_permit_allow_total", "P3.3 permits that allowed a plan."),
    governorBlock: defineCounter(
      registry,
      "governor_block_total",
      "Plans stopped by the Governor (block key or denied permit), by reason code.",
      ["reason"],
    ),
    executed: defineCounter(
      registry,
      "apply_executed_total",
      "Execution attempts by outcome: success, kill_switch, testnet_bypass, rejected, unknown, error.",
      ["status"],
    ),
    planProcessed: defineCounter(
      registry,
      "apply_plan_processed_total",
      "Plans processed by decision (EXECUTE, SKIP, BLOCKED, ERROR).",
      ["decision"],
    ),
    permitWaitMs: defineGauge(
      registry,
      "permit_wait_ms",
      "Duration of the last permit wait in milliseconds.",
    ),
    positionMismatchSeconds: defineGauge(
      registry,
      "position_mismatch_seconds",
      "Seconds the exchange position and the ledger have disagreed (0 while they match).",
    ),
    permitWaitSeconds: defineHistogram(
      registry,
      "apply_permit_wait_seconds",
      "Time from plan publication until both permits were consumed or the wait ended.",
      PERMIT_WAIT_BUCKETS,
    ),
    orderLatencySeconds: defineHistogram(
      registry,
      "apply_order_latency_seconds",
      "Time from sending an order until the exchange answered.",
      ORDER_LATENCY_BUCKETS,
    ),
    plan: defineCounter(
      registry,
      "quantum_apply_plan_total",
      "Plans published to apply.plan, by symbol and decision.",
      ["symbol", "decision"],
    ),
    dedupeHits: defineCounter(
      registry,
      "quantum_apply_dedupe_hits_total",
      "Proposals skipped because their plan_id was already published or executed.",
    ),
    killSwitchActive: defineGauge(
      registry,
      "apply_kill_switch_active",
      "1 while the global kill switch (or trading state HALTED) blocks execution, else 0.",
    ),
    protectiveStopMissing: defineGauge(
      registry,
      "apply_protective_stop_missing",
      "1 while a protected position has no protective stop (replacement refused, old stop not restored), else 0.",
      ["symbol"],
    ),
  };
  zeroCounter(m.executed, "status", EXECUTED_STATUSES);
  zeroCounter(m.planProcessed, "decision", DECISIONS);
  zeroCounter(m.p33PermitDeny, "reason", P33_DENY_REASONS);
  return m;
}
