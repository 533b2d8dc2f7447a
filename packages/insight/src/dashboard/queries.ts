import type { Redis } from "ioredis";
import {
  decisionRows,
  type P35Freshness,
  pct,
  readP35Freshness,
  readWindow,
  SUCCESS_REASON,
} from "./window.js";

export const DEFAULT_GATE_THRESHOLD_PCT = 40;
export const QUERY_A_TOP_REASONS = 15;
export const TOP_GATES = 10;

export interface GateRow {
  readonly reason: string;
  readonly score: number;
  /** Percent of all results in the window (two decimals). */
  readonly pct: number;
}

// ------------------------------------------------------------------------------------------------ A
export interface QueryAResult {
  readonly query: "a";
  readonly window: "5m";
  readonly total: number;
  readonly decisions: ReadonlyArray<{ decision: string; count: number; pct: number }>;
  /** Top 15 reasons; `none` is flagged `success` (it is not a gate). */
  readonly reasons: ReadonlyArray<GateRow & { readonly success: boolean }>;
  /** SKIP / total in percent; null for an empty window. */
  readonly skipRatePct: number | null;
  readonly executeRatePct: number | null;
  readonly p35: P35Freshness;
}

/** A: "why are we not trading now?" — decision distribution, top 15 reasons and skip rate of the 5m window. */
export async function queryA(redis: Redis, opts: { nowMs?: number } = {}): Promise<QueryAResult> {
  const w = await readWindow(redis, "5m");
  const count = (d: string) => w.decisions[d] ?? 0;
  return {
    query: "a",
    window: "5m",
    total: w.total,
    decisions: decisionRows(w),
    reasons: w.reasons.slice(0, QUERY_A_TOP_REASONS).map((r) => ({
      reason: r.reason,
      score: r.score,
      pct: pct(r.score, w.total),
      success: r.reason === SUCCESS_REASON,
    })),
    skipRatePct: w.total > 0 ? pct(count("SKIP"), w.total) : null,
    executeRatePct: w.total > 0 ? pct(count("EXECUTE"), w.total) : null,
    p35: await readP35Freshness(redis, opts.nowMs ?? Date.now()),
  };
}

// ------------------------------------------------------------------------------------------------ C
export interface QueryCResult {
  readonly query: "c";
  readonly window: "5m";
  /** All results in the window (`none` included); every pct is of this total. */
  readonly total: number;
  readonly success: { readonly score: number; readonly pct: number };
  readonly gates: ReadonlyArray<GateRow & { readonly overThreshold: boolean }>;
  readonly thresholdPct: number;
  /** Gates above the threshold (the "single gate > 40 %" warning). */
  readonly warnings: readonly GateRow[];
}

function gatesOf(reasons: ReadonlyArray<{ reason: string; score: number }>, total: number): GateRow[] {
  return reasons
    .filter((r) => r.reason !== SUCCESS_REASON)
    .map((r) => ({ reason: r.reason, score: r.score, pct: pct(r.score, total) }));
}

/** C: gate share — top 10 gates with scores and percentages of all results in the 5m window. */
export async function queryC(redis: Redis, opts: { thresholdPct?: number } = {}): Promise<QueryCResult> {
  const thresholdPct = opts.thresholdPct ?? DEFAULT_GATE_THRESHOLD_PCT;
  const w = await readWindow(redis, "5m");
  const gates = gatesOf(w.reasons, w.total);
  const over = (g: { score: number }) => w.total > 0 && (g.score / w.total) * 100 > thresholdPct;
  const successScore = w.reasons.find((r) => r.reason === SUCCESS_REASON)?.score ?? 0;
  return {
    query: "c",
    window: "5m",
    total: w.total,
    success: { score: successScore, pct: pct(successScore, w.total) },
    gates: gates.slice(0, TOP_GATES).map((g) => ({ ...g, overThreshold: over(g) })),
    thresholdPct,
    warnings: gates.filter(over),
  };
}

// ------------------------------------------------------------------------------------------------ D
export interface QueryDResult {
  readonly query: "d";
  readonly window: "5m";
  readonly thresholdPct: number;
  readonly total: number;
  readonly minTotal: number;
  /** False when total < minTotal: nothing is judged. */
  readonly enoughData: boolean;
  /** Gates (reasons other than `none`) judged. */
  readonly gatesChecked: number;
  /** Every gate whose share of all results is above the threshold, largest first. */
  readonly crossed: readonly GateRow[];
  readonly topGate: GateRow | null;
}

/**
 * D: drift detection — which gates hold more than `thresholdPct` % of ALL results in the 5m window.
 * `none` counts in the total but is never a gate. Exit 3 when `crossed` is non-empty.
 */
export async function queryD(
  redis: Redis,
  opts: { thresholdPct?: number; minTotal?: number } = {},
): Promise<QueryDResult> {
  const thresholdPct = opts.thresholdPct ?? DEFAULT_GATE_THRESHOLD_PCT;
  const minTotal = opts.minTotal ?? 1;
  const w = await readWindow(redis, "5m");
  const gates = gatesOf(w.reasons, w.total);
  const enoughData = w.total > 0 && w.total >= minTotal;
  const crossed = enoughData ? gates.filter((g) => (g.score / w.total) * 100 > thresholdPct) : [];
  return {
    query: "d",
    window: "5m",
    thresholdPct,
    total: w.total,
    minTotal,
    enoughData,
    gatesChecked: gates.length,
    crossed,
    topGate: gates[0] ?? null,
  };
}
