import { ALERT_SEVERITIES, DECISIONS } from "@quantum/contracts";
import type { Counter, Gauge, Histogram, Registry } from "prom-client";
import { defineCounter, defineGauge, defineHistogram, zeroCounter } from "./define.js";

/** Buckets of one P3.5 batch (read → pipelined bucket updates → XACK): 1 ms .. 2.5 s. */
export const BATCH_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;

/** Decision label values of p35_decisions_total (the normalized decisions plus UNKNOWN). */
export const P35_DECISION_LABELS = [...DECISIONS, "UNKNOWN"] as const;

/** P3.5 Decision Intelligence metrics. */
export interface P35Metrics {
  /** p35_processed_total — apply.result entries processed. */
  processed: Counter;
  /** p35_decisions_total{decision} — normalized decision ∈ EXECUTE|SKIP|BLOCKED|ERROR|UNKNOWN. */
  decisions: Counter<"decision">;
  /** p35_consumer_lag — entries of apply.result not yet delivered to the group (XINFO GROUPS lag). */
  consumerLag: Gauge;
  /** p35_alerts_total{severity} — window alerts published (not stuck alerts), severity ∈ MEDIUM|HIGH|CRITICAL. */
  alerts: Counter<"severity">;
  /** p35_batch_seconds — duration of one batch. */
  batchSeconds: Histogram;
  /** p35_symbol_stuck{symbol} — 1 while the symbol is stuck (plans, no EXECUTE); only allowlisted symbols. */
  symbolStuck: Gauge<"symbol">;
  /** p35_day_rollups_total — daily rollups written by this instance. */
  dayRollups: Counter;
}

export function createP35Metrics(registry: Registry): P35Metrics {
  const m: P35Metrics = {
    processed: defineCounter(registry, "p35_processed_total", "apply.result entries processed by P3.5."),
    decisions: defineCounter(
      registry,
      "p35_decisions_total",
      "apply.result entries by normalized decision (EXECUTE, SKIP, BLOCKED, ERROR, UNKNOWN).",
      ["decision"],
    ),
    consumerLag: defineGauge(
      registry,
      "p35_consumer_lag",
      "Entries of apply.result not yet delivered to the P3.5 consumer group.",
    ),
    alerts: defineCounter(
      registry,
      "p35_alerts_total",
      "Window alerts (gate share, decision mix) published to quantum:p35:alerts, by severity; stuck-symbol alerts show in p35_symbol_stuck.",
      ["severity"],
    ),
    batchSeconds: defineHistogram(
      registry,
      "p35_batch_seconds",
      "Duration of one P3.5 batch: decode, pipelined bucket updates and XACK.",
      BATCH_BUCKETS,
    ),
    symbolStuck: defineGauge(
      registry,
      "p35_symbol_stuck",
      "1 while the symbol has had plans but no EXECUTE for P35_STUCK_MINUTES, else 0 (allowlisted symbols).",
      ["symbol"],
    ),
    dayRollups: defineCounter(
      registry,
      "p35_day_rollups_total",
      "Daily rollups (quantum:p35:day:<YYYYMMDD>) written by this instance.",
    ),
  };
  zeroCounter(m.decisions, "decision", P35_DECISION_LABELS);
  zeroCounter(m.alerts, "severity", ALERT_SEVERITIES);
  return m;
}
