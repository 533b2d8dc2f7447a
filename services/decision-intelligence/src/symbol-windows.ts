import {
  keys,
  P35_FIELD_PREFIX,
  P35_SYMBOL_WINDOWS,
  P35_WINDOWS,
  type P35SymbolWindow,
  p35Fields,
  splitSymbolEntry,
} from "@quantum/contracts";
import type { ChainableCommander, Redis } from "ioredis";
import { minuteOf } from "./time.js";
import {
  aggregateWindows,
  type BucketHash,
  readBuckets,
  WINDOW_TTL_SEC,
  type WindowSnapshot,
  windowMinutes,
  writeWindows,
} from "./windows.js";

/** One symbol's counts over a span of minutes. */
export interface SymbolCounts {
  /** decision → count. */
  readonly decisions: Map<string, number>;
  /** reason → count (`none` included). */
  readonly reasons: Map<string, number>;
  /** Sum of the decision counts: the symbol's results (plans) in the span. */
  total: number;
}

/** symbol → its counts; only symbols with at least one result in the span. */
export type SymbolTable = Map<string, SymbolCounts>;

export interface SymbolWindowSnapshot {
  readonly window: P35SymbolWindow;
  readonly symbols: SymbolTable;
}

/** A gate and how many of the symbol's results it held. */
export interface GateCount {
  readonly reason: string;
  readonly count: number;
}

function count(v: string): number {
  return /^\d{1,15}$/.test(v) ? Number(v) : 0;
}

function entryOf(table: SymbolTable, symbol: string): SymbolCounts {
  let e = table.get(symbol);
  if (e === undefined) {
    e = { decisions: new Map(), reasons: new Map(), total: 0 };
    table.set(symbol, e);
  }
  return e;
}

/** Add one bucket's `symbol_decision:` and `symbol_reason:` fields into `table`. */
function addBucket(table: SymbolTable, hash: BucketHash): void {
  for (const [field, value] of Object.entries(hash)) {
    const isDecision = field.startsWith(P35_FIELD_PREFIX.symbolDecision);
    if (!isDecision && !field.startsWith(P35_FIELD_PREFIX.symbolReason)) continue;
    const n = count(value);
    if (n === 0) continue;
    const prefix = isDecision ? P35_FIELD_PREFIX.symbolDecision : P35_FIELD_PREFIX.symbolReason;
    const parts = splitSymbolEntry(field.slice(prefix.length));
    if (parts === null) continue;
    const e = entryOf(table, parts[0]);
    const target = isDecision ? e.decisions : e.reasons;
    target.set(parts[1], (target.get(parts[1]) ?? 0) + n);
    if (isDecision) e.total += n;
  }
}

/**
 * Per-symbol counts over the given UTC minutes of `buckets` (missing minutes = empty). A symbol is listed when
 * it has per-symbol decision counts; buckets written before those existed give reasons without decisions, so
 * such a symbol's total falls back to its reason sum.
 */
export function aggregateSymbols(
  buckets: ReadonlyMap<number, BucketHash>,
  minutes: readonly number[],
): SymbolTable {
  const table: SymbolTable = new Map();
  for (const m of minutes) {
    const hash = buckets.get(m);
    if (hash !== undefined) addBucket(table, hash);
  }
  for (const e of table.values()) {
    if (e.total === 0) for (const n of e.reasons.values()) e.total += n;
  }
  return table;
}

/** The per-symbol 15m and 1h windows at `nowMinute` (same span rule as the other windows). Pure. */
export function aggregateSymbolWindows(
  buckets: ReadonlyMap<number, BucketHash>,
  nowMinute: number,
): SymbolWindowSnapshot[] {
  return P35_SYMBOL_WINDOWS.map((window) => ({
    window,
    symbols: aggregateSymbols(buckets, windowMinutes(nowMinute, P35_WINDOWS[window])),
  }));
}

/** The symbol's dominant gate: its most frequent reason other than `none` (ties by name), or null. */
export function dominantGate(c: SymbolCounts): GateCount | null {
  let best: GateCount | null = null;
  for (const [reason, n] of c.reasons) {
    if (reason === "none" || n <= 0) continue;
    if (best === null || n > best.count || (n === best.count && reason < best.reason))
      best = { reason, count: n };
  }
  return best;
}

/**
 * Queue the replacement of every per-symbol window hash on `tx` (the window transaction): delete, then write
 * the symbols seen, with `ttlSec`. An empty window leaves its keys deleted.
 */
export function queueSymbolWindows(
  tx: ChainableCommander,
  snapshots: readonly SymbolWindowSnapshot[],
  ttlSec: number,
): void {
  for (const s of snapshots) {
    const decisionsKey = keys.p35SymbolDecisionCounts(s.window);
    const reasonsKey = keys.p35SymbolReasonCounts(s.window);
    tx.del(decisionsKey, reasonsKey);
    const decisions: Record<string, string> = {};
    const reasons: Record<string, string> = {};
    for (const [symbol, c] of s.symbols) {
      for (const [d, n] of c.decisions) decisions[p35Fields.symbolEntry(symbol, d)] = String(n);
      for (const [r, n] of c.reasons) reasons[p35Fields.symbolEntry(symbol, r)] = String(n);
    }
    if (Object.keys(decisions).length > 0) {
      tx.hset(decisionsKey, decisions);
      tx.expire(decisionsKey, ttlSec);
    }
    if (Object.keys(reasons).length > 0) {
      tx.hset(reasonsKey, reasons);
      tx.expire(reasonsKey, ttlSec);
    }
  }
}

/** What one recompute produced: the windows, the per-symbol windows and the buckets they came from. */
export interface Recomputed {
  readonly nowMinute: number;
  readonly windows: WindowSnapshot[];
  readonly symbolWindows: SymbolWindowSnapshot[];
  /** The buckets read (current minute and the 60 before it), for the checks that follow. */
  readonly buckets: ReadonlyMap<number, BucketHash>;
}

/**
 * Read the buckets once, then replace the four windows and the per-symbol windows in one transaction. The
 * per-symbol windows are written only when `perSymbol` (ENABLE_SYMBOL_BREAKDOWN); without it their keys are
 * deleted, since the buckets carry no per-symbol fields.
 */
export async function recomputeAllWindows(
  redis: Redis,
  nowMs: number,
  perSymbol: boolean,
): Promise<Recomputed> {
  const nowMinute = minuteOf(nowMs);
  const buckets = await readBuckets(redis, nowMinute);
  const windows = aggregateWindows(buckets, nowMinute);
  const symbolWindows = perSymbol
    ? aggregateSymbolWindows(buckets, nowMinute)
    : P35_SYMBOL_WINDOWS.map((window) => ({ window, symbols: new Map() }));
  await writeWindows(redis, windows, (tx) => queueSymbolWindows(tx, symbolWindows, WINDOW_TTL_SEC));
  return { nowMinute, windows, symbolWindows, buckets };
}
