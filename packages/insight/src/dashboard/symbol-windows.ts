import { keys, type P35SymbolWindow, splitSymbolEntry } from "@quantum/contracts";
import type { Redis } from "ioredis";
import {
  byScoreThenName,
  DECISION_ORDER,
  type P35Freshness,
  pct,
  readP35Freshness,
  SUCCESS_REASON,
} from "./window.js";

/** Gates listed per symbol; the rest is summed in `otherGates`. */
export const SYMBOL_TOP_GATES = 10;

/** One symbol's counts in a per-symbol window, as P3.5 last wrote them. */
export interface SymbolWindowCounts {
  readonly decisions: Map<string, number>;
  readonly reasons: Map<string, number>;
}

/** HGETALL of a per-symbol window's decision and reason hashes (one round trip) → symbol → counts. */
export async function readSymbolWindow(
  redis: Redis,
  window: P35SymbolWindow,
): Promise<Map<string, SymbolWindowCounts>> {
  const replies =
    (await redis
      .pipeline()
      .hgetall(keys.p35SymbolDecisionCounts(window))
      .hgetall(keys.p35SymbolReasonCounts(window))
      .exec()) ?? [];
  for (const [err] of replies) if (err) throw err;
  const out = new Map<string, SymbolWindowCounts>();
  const add = (hash: Record<string, string>, pick: (c: SymbolWindowCounts) => Map<string, number>) => {
    for (const [field, v] of Object.entries(hash)) {
      const parts = splitSymbolEntry(field);
      const n = Number(v);
      if (parts === null || !Number.isFinite(n) || n <= 0) continue;
      let c = out.get(parts[0]);
      if (c === undefined) {
        c = { decisions: new Map(), reasons: new Map() };
        out.set(parts[0], c);
      }
      pick(c).set(parts[1], n);
    }
  };
  add((replies[0]?.[1] ?? {}) as Record<string, string>, (c) => c.decisions);
  add((replies[1]?.[1] ?? {}) as Record<string, string>, (c) => c.reasons);
  return out;
}

export interface SymbolGateRow {
  readonly reason: string;
  readonly score: number;
  /** Percent of the symbol's results (two decimals). */
  readonly pct: number;
}

export interface SymbolGates {
  readonly symbol: string;
  /** All results of the symbol in the window (`none` included). */
  readonly total: number;
  /** Results with reason `none`. */
  readonly success: number;
  /** Decision mix in display order. */
  readonly decisions: ReadonlyArray<{ decision: string; count: number; pct: number }>;
  /** Top 10 gates; pct = share of the symbol's total. */
  readonly gates: readonly SymbolGateRow[];
  /** Results held by gates beyond the top 10. */
  readonly otherGates: number;
}

export interface QueryBResult {
  readonly query: "b";
  readonly window: P35SymbolWindow;
  /** Symbols asked for; null = every symbol in the window. */
  readonly requestedSymbols: readonly string[] | null;
  readonly symbols: readonly SymbolGates[];
  readonly p35: P35Freshness;
}

function gatesOf(symbol: string, c: SymbolWindowCounts | undefined): SymbolGates {
  const decisionSum = [...(c?.decisions.values() ?? [])].reduce((s, n) => s + n, 0);
  const reasonSum = [...(c?.reasons.values() ?? [])].reduce((s, n) => s + n, 0);
  const total = decisionSum > 0 ? decisionSum : reasonSum;
  const gates = [...(c?.reasons ?? [])]
    .filter(([r]) => r !== SUCCESS_REASON)
    .map(([reason, score]) => ({ reason, score }))
    .sort(byScoreThenName);
  const order = (d: string) => {
    const i = (DECISION_ORDER as readonly string[]).indexOf(d);
    return i < 0 ? DECISION_ORDER.length : i;
  };
  const decisions = [...(c?.decisions ?? [])]
    .sort(([a], [b]) => order(a) - order(b) || (a < b ? -1 : 1))
    .map(([decision, count]) => ({ decision, count, pct: pct(count, total) }));
  return {
    symbol,
    total,
    success: c?.reasons.get(SUCCESS_REASON) ?? 0,
    decisions,
    gates: gates.slice(0, SYMBOL_TOP_GATES).map((g) => ({ ...g, pct: pct(g.score, total) })),
    otherGates: gates.slice(SYMBOL_TOP_GATES).reduce((s, g) => s + g.score, 0),
  };
}

/**
 * B: decision mix and top 10 gates per symbol, from the per-symbol window P3.5 keeps (15m or 1h). Without a
 * symbol list every symbol of the window is shown, most results first.
 */
export async function queryB(
  redis: Redis,
  opts: { symbols?: readonly string[] | null; window?: P35SymbolWindow; nowMs?: number } = {},
): Promise<QueryBResult> {
  const window = opts.window ?? "15m";
  const counts = await readSymbolWindow(redis, window);
  const requested = opts.symbols && opts.symbols.length > 0 ? [...opts.symbols] : null;
  const rows = (requested ?? [...counts.keys()]).map((s) => gatesOf(s, counts.get(s)));
  if (requested === null) rows.sort((a, b) => b.total - a.total || (a.symbol < b.symbol ? -1 : 1));
  return {
    query: "b",
    window,
    requestedSymbols: requested,
    symbols: rows,
    p35: await readP35Freshness(redis, opts.nowMs ?? Date.now()),
  };
}
