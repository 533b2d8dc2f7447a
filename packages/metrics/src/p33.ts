import { P33_DENY_REASONS } from "@quantum/contracts";
import type { Counter, Gauge, Histogram, Registry } from "prom-client";
import { defineCounter, defineGauge, defineHistogram, zeroCounter } from "./define.js";

/** Buckets of plan entry → permit written: 0.5 ms .. 1 s. */
export const PERMIT_LATENCY_BUCKETS = [
  0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
] as const;

/** P3.3 Position State Brain metrics. */
export interface P33Metrics {
  /** p33_permit_allow_total{symbol} */
  permitAllow: Counter<"symbol">;
  /** p33_permit_deny_total{reason,symbol} — reason ∈ P33_DENY_REASONS. */
  permitDeny: Counter<"reason" | "symbol">;
  /** p33_snapshot_age_seconds{symbol} — age of the exchange snapshot. */
  snapshotAgeSeconds: Gauge<"symbol">;
  /** p33_exchange_position_amt{symbol} — signed position on the exchange. */
  exchangePositionAmt: Gauge<"symbol">;
  /** p33_ledger_position_amt{symbol} — signed position this system believes. */
  ledgerPositionAmt: Gauge<"symbol">;
  /** position_mismatch_seconds{symbol} — seconds exchange and ledger have disagreed (0 = match). */
  positionMismatchSeconds: Gauge<"symbol">;
  /** p33_permit_latency_seconds — plan entry time → permit written. */
  permitLatencySeconds: Histogram;
}

export interface P33MetricsOptions {
  /** Allowlisted symbols: their allow/deny series are exported at 0 from the start. */
  symbols?: readonly string[];
}

export function createP33Metrics(registry: Registry, opts: P33MetricsOptions = {}): P33Metrics {
  const m: P33Metrics = {
    permitAllow: defineCounter(
      registry,
      "p33_permit_allow_total",
      "P3.3 permits written that allow a plan.",
      ["symbol"],
    ),
    permitDeny: defineCounter(
      registry,
      "p33_permit_deny_total",
      "P3.3 permits written that deny a plan, by deny reason and symbol.",
      ["reason", "symbol"],
    ),
    snapshotAgeSeconds: defineGauge(
      registry,
      "p33_snapshot_age_seconds",
      "Age in seconds of the newest exchange position snapshot.",
      ["symbol"],
    ),
    exchangePositionAmt: defineGauge(
      registry,
      "p33_exchange_position_amt",
      "Signed position amount on the exchange (from the latest snapshot).",
      ["symbol"],
    ),
    ledgerPositionAmt: defineGauge(
      registry,
      "p33_ledger_position_amt",
      "Signed position amount in the ledger (what this system believes).",
      ["symbol"],
    ),
    positionMismatchSeconds: defineGauge(
      registry,
      "position_mismatch_seconds",
      "Seconds the exchange position and the ledger have disagreed (0 while they match).",
      ["symbol"],
    ),
    permitLatencySeconds: defineHistogram(
      registry,
      "p33_permit_latency_seconds",
      "Time from the apply.plan entry timestamp until the P3.3 permit was written.",
      PERMIT_LATENCY_BUCKETS,
    ),
  };
  for (const symbol of opts.symbols ?? []) {
    m.permitAllow.inc({ symbol }, 0);
    zeroCounter(m.permitDeny, "reason", P33_DENY_REASONS, { symbol });
  }
  return m;
}
