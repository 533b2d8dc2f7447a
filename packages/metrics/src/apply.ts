import {
  APPLY_REASON_DOCS,
  APPLY_REASONS,
  DECISIONS,
  EXECUTED_STATUSES,
  P33_DENY_REASONS,
  TRADING_STATES,
  type TradingState,
} from "@quantum/contracts";
import type { Counter, Gauge, Histogram, Registry } from "prom-client";
import { defineCounter, defineGauge, defineHistogram, zeroCounter } from "./define.js";

/** Buckets of the permit wait: 1 ms .. 2 s (the wait is bounded by APPLY_PERMIT_WAIT_MS, default 1.2 s). */
export const PERMIT_WAIT_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2,
] as const;
/** Buckets of an exchange order round trip: 5 ms .. 10 s. */
export const ORDER_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Apply Layer metrics. Names are exact: dashboards and alert rules use them. */
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
  /** permit_wait_ms — last permit wait in ms (gauge; the dashboard's "Permit wait (ms)" panel reads it). */
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
  /** apply_plan_queue_depth — plans queued or running in this process. */
  planQueueDepth: Gauge;
  /** apply_plan_queue_capacity — the bound of the plan queue (APPLY_MAX_QUEUED_PLANS). */
  planQueueCapacity: Gauge;
  /** apply_plan_queue_full_total{source} — times intake found the plan queue full (source = stream|hash). */
  planQueueFull: Counter<"source">;
  /**
   * apply_result_total{decision,reason} — results published, by decision (DECISIONS) and bounded reason
   * (APPLY_REASONS): the "why are we not trading?" numbers for Grafana.
   */
  result: Counter<"decision" | "reason">;
  /** apply_trading_state{state} — 1 for the trading state the Apply Layer last read, 0 for the others. */
  tradingState: Gauge<"state">;
  /**
   * apply_protective_stop_missing{symbol} — 1 while a position this system protected has no protective stop
   * (the replacement was refused and the old stop could not be placed again); 0 once a stop works again.
   */
  protectiveStopMissing: Gauge<"symbol">;
}

/** Set apply_trading_state: the current state's series to 1, every other state's to 0. */
export function setTradingState(gauge: Gauge<"state">, current: TradingState): void {
  for (const state of TRADING_STATES) gauge.set({ state }, state === current ? 1 : 0);
}

/** Where intake takes proposals from (label of apply_plan_queue_full_total). */
export const INTAKE_SOURCES = ["stream", "hash"] as const;

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
    planQueueDepth: defineGauge(
      registry,
      "apply_plan_queue_depth",
      "Plans queued or running in this process (bounded by apply_plan_queue_capacity).",
    ),
    planQueueCapacity: defineGauge(
      registry,
      "apply_plan_queue_capacity",
      "Most plans queued or running at once (APPLY_MAX_QUEUED_PLANS).",
    ),
    planQueueFull: defineCounter(
      registry,
      "apply_plan_queue_full_total",
      "Times intake found the plan queue full and left proposals waiting (stream: unread; hash: read when a slot frees).",
      ["source"],
    ),
    result: defineCounter(
      registry,
      "apply_result_total",
      "Results published to apply.result, by decision and reason code.",
      ["decision", "reason"],
    ),
    tradingState: defineGauge(
      registry,
      "apply_trading_state",
      "Trading state the Apply Layer last read: 1 for the current state (ACTIVE, REDUCE_ONLY, HALTED), 0 for the others.",
      ["state"],
    ),
    protectiveStopMissing: defineGauge(
      registry,
      "apply_protective_stop_missing",
      "1 while a protected position has no protective stop (replacement refused, old stop not restored), else 0.",
      ["symbol"],
    ),
  };
  zeroCounter(m.planQueueFull, "source", INTAKE_SOURCES);
  zeroCounter(m.executed, "status", EXECUTED_STATUSES);
  zeroCounter(m.planProcessed, "decision", DECISIONS);
  zeroCounter(m.p33PermitDeny, "reason", P33_DENY_REASONS);
  // Each reason at 0 under the decision it is written with, so the series exist before the first result.
  for (const reason of APPLY_REASONS)
    m.result.inc({ decision: APPLY_REASON_DOCS[reason].decision, reason }, 0);
  return m;
}
