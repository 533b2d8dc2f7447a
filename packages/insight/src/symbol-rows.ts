import { keyPatterns, keys, P33_DENY_REASONS, P33_REASON_KEY, symbolFromKey } from "@quantum/contracts";
import { Decimal } from "decimal.js";
import type { Redis } from "ioredis";
import type { GateRow } from "./dashboard/queries.js";
import type { SymbolGates } from "./dashboard/symbol-windows.js";
import { SUCCESS_REASON } from "./dashboard/window.js";
import type { ResultRow } from "./recent.js";

/** Rows shown at most (the symbols P3.3 tracks, plus any seen in recent results or buckets). */
export const MAX_SYMBOL_ROWS = 200;

/** Where a row's blocking reason comes from: live state first, then the symbol's last result. */
export type BlockerSource = "hold" | "drift" | "cooldown" | "last_result";

export interface SymbolRow {
  readonly symbol: string;
  /** The newest result of the symbol among the recent results read; null when none. */
  readonly lastResult: ResultRow | null;
  /** The top gate of the symbol over the last 5 minutes (query B); null when only successes or nothing. */
  readonly topGate: GateRow | null;
  /** Results of the symbol in the last 5 minutes. */
  readonly recentTotal: number;
  /** What stops this symbol now and where that was seen; null when nothing does. */
  readonly blocker: { readonly reason: string; readonly source: BlockerSource } | null;
  readonly exchangeAmt: string | null;
  readonly ledgerAmt: string | null;
  /** exchange − ledger (decimal); null when either is missing. */
  readonly drift: string | null;
  /** Epoch seconds since when P3.3 sees exchange and ledger disagree (beyond its tolerance); null = agree. */
  readonly mismatchSince: number | null;
  readonly snapshotAgeSec: number | null;
  /** Value of the reconcile hold key; null when there is no hold. */
  readonly hold: string | null;
  readonly lastFillAgeSec: number | null;
  /** Seconds of P3.3's cooldown left after the last fill; null when unknown, 0 when over. */
  readonly cooldownRemainingSec: number | null;
}

const P33_REASON_HEAD = new RegExp(`^${P33_REASON_KEY}=([a-z0-9_]+)(?:\\s|$)`);

/** The P3.3 deny reason a `p33_permit_denied` result carries at the start of its detail, if any. */
export function p33ReasonOf(result: ResultRow): string | null {
  if (result.reason !== "p33_permit_denied" || result.detail === null) return null;
  const head = P33_REASON_HEAD.exec(result.detail)?.[1] ?? "";
  return (P33_DENY_REASONS as readonly string[]).includes(head) ? head : null;
}

/** Symbols with an exchange snapshot (every symbol P3.3 tracks), found with SCAN. */
export async function snapshotSymbols(redis: Redis, limit = MAX_SYMBOL_ROWS): Promise<string[]> {
  const found = new Set<string>();
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", keyPatterns.positionSnapshot, "COUNT", 5000);
    cursor = next;
    for (const k of batch) {
      const s = symbolFromKey(k, keyPatterns.positionSnapshot);
      if (s !== null && s !== "") found.add(s);
    }
  } while (cursor !== "0" && found.size < limit);
  return [...found];
}

function decimalOf(v: unknown): Decimal | null {
  if (typeof v !== "string" || v.trim() === "") return null;
  try {
    const d = new Decimal(v.trim());
    return d.isFinite() ? d : null;
  } catch {
    return null;
  }
}

function numberOf(v: unknown): number | null {
  if (typeof v !== "string" || v.trim() === "") return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/**
 * One row per symbol: position state from Redis (one pipelined round trip), the symbol's last result and
 * its top gate of the last 5 minutes (query B). `cooldownSec` is P3.3's cooldown (null: not shown).
 */
export async function readSymbolRows(
  redis: Redis,
  opts: {
    symbols: readonly string[];
    gates: readonly SymbolGates[];
    results: readonly ResultRow[];
    nowMs: number;
    cooldownSec: number | null;
  },
): Promise<SymbolRow[]> {
  const symbols = opts.symbols.slice(0, MAX_SYMBOL_ROWS);
  const p = redis.pipeline();
  for (const s of symbols) {
    p.hmget(keys.positionSnapshot(s), "position_amt", "ts_epoch");
    p.hget(keys.positionLedger(s), "last_known_amt");
    p.hget(keys.positionView(s), "mismatch_since");
    p.get(keys.reconcileHold(s));
    p.get(keys.cooldownLastExecTs(s));
  }
  const replies = (await p.exec()) ?? [];
  for (const [err] of replies) if (err) throw err;
  const nowSec = opts.nowMs / 1000;
  const lastBySymbol = new Map<string, ResultRow>();
  for (const r of opts.results)
    if (r.symbol !== null && !lastBySymbol.has(r.symbol)) lastBySymbol.set(r.symbol, r);
  return symbols.map((symbol, i): SymbolRow => {
    const at = (k: number) => replies[i * 5 + k]?.[1];
    const [amtRaw, tsRaw] = (at(0) ?? [null, null]) as (string | null)[];
    const exchange = decimalOf(amtRaw);
    const ledger = decimalOf(at(1));
    const snapshotTs = numberOf(tsRaw);
    const mismatchSince = numberOf(at(2));
    const holdRaw = at(3);
    const hold = typeof holdRaw === "string" && holdRaw !== "" ? holdRaw : null;
    let lastFillMs = numberOf(at(4));
    if (lastFillMs !== null && lastFillMs < 1e11) lastFillMs *= 1000;
    const lastFillAgeSec = lastFillMs === null ? null : Math.max(0, nowSec - lastFillMs / 1000);
    const cooldownRemainingSec =
      lastFillAgeSec === null || opts.cooldownSec === null
        ? null
        : Math.max(0, opts.cooldownSec - lastFillAgeSec);
    const diff = exchange !== null && ledger !== null ? exchange.minus(ledger) : null;
    const drifting = mismatchSince !== null || (diff !== null && !diff.isZero() && at(2) === null);
    const g = opts.gates.find((x) => x.symbol === symbol);
    const last = lastBySymbol.get(symbol) ?? null;
    let blocker: SymbolRow["blocker"] = null;
    if (hold !== null) blocker = { reason: "reconcile_hold_active", source: "hold" };
    else if (drifting && exchange !== null && ledger !== null) {
      const sideDiffers =
        exchange.isNegative() !== ledger.isNegative() && !exchange.isZero() && !ledger.isZero();
      blocker = {
        reason: sideDiffers ? "reconcile_required_side_mismatch" : "reconcile_required_qty_mismatch",
        source: "drift",
      };
    } else if (cooldownRemainingSec !== null && cooldownRemainingSec > 0) {
      blocker = { reason: "cooldown_in_flight", source: "cooldown" };
    } else if (last?.reason !== null && last?.reason !== undefined && last.reason !== SUCCESS_REASON) {
      blocker = { reason: p33ReasonOf(last) ?? last.reason, source: "last_result" };
    }
    return {
      symbol,
      lastResult: last,
      topGate: g?.gates[0] ?? null,
      recentTotal: g?.total ?? 0,
      blocker,
      exchangeAmt: exchange?.toFixed() ?? null,
      ledgerAmt: ledger?.toFixed() ?? null,
      drift: diff?.toFixed() ?? null,
      mismatchSince,
      snapshotAgeSec: snapshotTs === null ? null : Math.max(0, nowSec - snapshotTs),
      hold,
      lastFillAgeSec,
      cooldownRemainingSec,
    };
  });
}
