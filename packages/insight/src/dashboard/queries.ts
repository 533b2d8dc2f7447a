import type { Redis } from "ioredis";
import { isoOf } from "../key-view.js";
import { lastMinutes, sumSymbolReasons } from "./buckets.js";
import {
  byScoreThenName,
  decisionRows,
  type P35Freshness,
  pct,
  readP35Freshness,
  readWindow,
  SUCCESS_REASON,
} from "./window.js";

export const DEFAULT_GATE_THRESHOLD_PCT = 40;
export const QUERY_A_TOP_REASONS = 15;
export const QUERY_B_MINUTES = 5;
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

// ------------------------------------------------------------------------------------------------ B
export interface SymbolGates {
  readonly symbol: string;
  /** All results of the symbol in the span (`none` included). */
  readonly total: number;
  /** Results with reason `none`. */
  readonly success: number;
  /** Top 10 gates; pct = share of the symbol's total. */
  readonly gates: readonly GateRow[];
  /** Results held by gates beyond the top 10. */
  readonly otherGates: number;
}

export interface QueryBResult {
  readonly query: "b";
  /** Bucket labels summed, oldest → newest (5 complete UTC minutes + the current one). */
  readonly minutes: readonly string[];
  readonly bucketsFound: readonly string[];
  readonly fromIso: string;
  readonly toIso: string;
  /** Symbols asked for; null = every symbol seen in the buckets. */
  readonly requestedSymbols: readonly string[] | null;
  readonly symbols: readonly SymbolGates[];
}

/**
 * B: top 10 gates per symbol, summing `symbol_reason:<SYM>:<R>` over the buckets of the last 5 complete UTC
 * minutes and the current one. `atMs` moves the end of the span (buckets are kept 48 h).
 */
export async function queryB(
  redis: Redis,
  opts: { symbols?: readonly string[] | null; nowMs?: number; atMs?: number } = {},
): Promise<QueryBResult> {
  const end = opts.atMs ?? opts.nowMs ?? Date.now();
  const minutes = lastMinutes(end, QUERY_B_MINUTES);
  const { sums, found } = await sumSymbolReasons(redis, minutes);
  const requested = opts.symbols && opts.symbols.length > 0 ? [...opts.symbols] : null;
  const symbolNames =
    requested ??
    [...sums.keys()].sort((a, b) => {
      const ta = [...(sums.get(a)?.values() ?? [])].reduce((s, n) => s + n, 0);
      const tb = [...(sums.get(b)?.values() ?? [])].reduce((s, n) => s + n, 0);
      return tb - ta || (a < b ? -1 : 1);
    });
  const symbols = symbolNames.map((symbol): SymbolGates => {
    const perReason = sums.get(symbol) ?? new Map<string, number>();
    const total = [...perReason.values()].reduce((s, n) => s + n, 0);
    const gates = [...perReason.entries()]
      .filter(([r]) => r !== SUCCESS_REASON)
      .map(([reason, score]) => ({ reason, score }))
      .sort(byScoreThenName);
    const top = gates.slice(0, TOP_GATES);
    return {
      symbol,
      total,
      success: perReason.get(SUCCESS_REASON) ?? 0,
      gates: top.map((g) => ({ ...g, pct: pct(g.score, total) })),
      otherGates: gates.slice(TOP_GATES).reduce((s, g) => s + g.score, 0),
    };
  });
  const first = minutes[0]!;
  const startMs = Math.floor(end / 60_000) * 60_000 - QUERY_B_MINUTES * 60_000;
  return {
    query: "b",
    minutes,
    bucketsFound: found,
    fromIso: isoOf(startMs / 1000) ?? first,
    toIso: isoOf(end / 1000) ?? "",
    requestedSymbols: requested,
    symbols,
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
