import { type ApplyMode, P35_WINDOWS, type P35Window, type ReasonDoc, reasonDoc } from "@quantum/contracts";
import { readKillSwitch, readTradingState } from "@quantum/permits";
import type { Redis } from "ioredis";
import { type GateRow, queryA } from "./dashboard/queries.js";
import { queryB } from "./dashboard/symbol-windows.js";
import { decisionRows, type P35Freshness, readWindow } from "./dashboard/window.js";
import { isoOf } from "./key-view.js";
import { type AlertRow, type DeadLetterRow, type ResultRow, readRecent } from "./recent.js";
import { effectiveMode, type ModeSource, readServiceStatuses, type ServiceStatusRow } from "./services.js";
import { readSymbolRows, type SymbolRow, snapshotSymbols } from "./symbol-rows.js";

/** How many results are read to find each symbol's last one; the newest RECENT_RESULTS of them are listed. */
export const RESULTS_SCANNED = 200;
export const RECENT_RESULTS = 20;
export const RECENT_ALERTS = 10;
export const RECENT_DEAD_LETTERS = 10;
/** Alerts younger than this are listed as open. */
export const OPEN_ALERT_MAX_AGE_SEC = 3600;

/** What an operator does about a reason: the record of the action table, or a pointer when there is none. */
export interface ReasonAdvice {
  readonly reason: string;
  readonly meaning: string;
  readonly action: string;
  readonly diagnose: string;
}

export interface WhyNotTrading {
  readonly at: number;
  readonly atIso: string | null;
  /** One line: whether plans can trade now and, if not, the first reason. */
  readonly headline: { readonly trading: boolean; readonly text: string };
  readonly killSwitch: {
    readonly halted: boolean;
    readonly value: string | null;
    readonly reason: string | null;
    readonly by: string | null;
    readonly at: number | null;
    readonly atIso: string | null;
    /** The Apply Layer mode the switch is judged in (a missing key halts production). */
    readonly mode: ApplyMode;
    readonly modeSource: ModeSource;
    readonly advice: ReasonAdvice | null;
  };
  readonly tradingState: {
    readonly state: string;
    readonly halted: boolean;
    readonly value: string | null;
    readonly advice: ReasonAdvice | null;
  };
  readonly services: readonly ServiceStatusRow[];
  readonly p35: P35Freshness;
  readonly windows: ReadonlyArray<{
    readonly window: P35Window;
    readonly total: number;
    readonly decisions: ReadonlyArray<{ decision: string; count: number; pct: number }>;
  }>;
  /** Top reasons of the 5m window (query A) with what fixes each. */
  readonly topReasons: ReadonlyArray<GateRow & { readonly success: boolean; readonly advice: ReasonAdvice }>;
  readonly symbols: ReadonlyArray<SymbolRow & { readonly advice: ReasonAdvice | null }>;
  readonly recentResults: readonly ResultRow[];
  readonly alerts: readonly AlertRow[];
  readonly deadLetters: { readonly total: number; readonly newest: readonly DeadLetterRow[] };
}

/** The action table's advice for a reason (symbol filled in), or a pointer to the docs for an unknown code. */
export function adviceFor(reason: string, symbol?: string): ReasonAdvice {
  const d: ReasonDoc | null = reasonDoc(reason, symbol);
  if (d === null) {
    return {
      reason,
      meaning: "A reason code this version does not document.",
      diagnose: "`redis-cli XREVRANGE quantum:stream:apply.result + - COUNT 20`",
      action: "Read the result's detail and the producer's logs.",
    };
  }
  return { reason, meaning: d.meaning, diagnose: d.diagnose, action: d.action };
}

/**
 * Everything the "why are we not trading?" page shows, read from Redis through the dashboard queries
 * (query A for the top reasons, query B for each symbol's gates) plus the control keys, service status
 * hashes, positions, results, alerts and dead letters. Read-only. `cooldownSec` is P3.3's cooldown after a
 * fill (null: the time left is not shown).
 */
export async function readWhyNotTrading(
  redis: Redis,
  opts: { nowMs?: number; cooldownSec?: number | null } = {},
): Promise<WhyNotTrading> {
  const nowMs = opts.nowMs ?? Date.now();
  // Independent reads go out together (one connection, no waiting in between); the page's latency is then
  // about the slowest of them, not their sum.
  const [kill, state, { services }, windows, a, b, recent, snapshotted] = await Promise.all([
    effectiveMode(redis, {}).then(async (mode) => ({
      mode,
      status: await readKillSwitch(redis, mode.mode),
    })),
    readTradingState(redis),
    readServiceStatuses(redis, { nowMs, includeOthers: false }),
    Promise.all(
      (Object.keys(P35_WINDOWS) as P35Window[]).map(async (w) => {
        const data = await readWindow(redis, w);
        return { window: w, total: data.total, decisions: decisionRows(data) };
      }),
    ),
    queryA(redis, { nowMs }),
    queryB(redis, { nowMs }),
    readRecent(redis, {
      nowMs,
      results: RESULTS_SCANNED,
      alerts: RECENT_ALERTS,
      deadLetters: RECENT_DEAD_LETTERS,
    }),
    snapshotSymbols(redis),
  ]);
  if (kill.status.error !== undefined) throw new Error(`cannot read the kill switch: ${kill.status.error}`);
  if (state.error !== undefined) throw new Error(`cannot read the trading state: ${state.error}`);
  const names = new Set(snapshotted);
  for (const g of b.symbols) names.add(g.symbol);
  for (const r of recent.results) if (r.symbol !== null) names.add(r.symbol);
  const rows = await readSymbolRows(redis, {
    symbols: [...names].sort(),
    gates: b.symbols,
    results: recent.results,
    nowMs,
    cooldownSec: opts.cooldownSec ?? null,
  });
  const symbols = rows
    .map((r) => ({ ...r, advice: r.blocker === null ? null : adviceFor(r.blocker.reason, r.symbol) }))
    .sort((x, y) => Number(y.blocker !== null) - Number(x.blocker !== null));
  const killAt = kill.status.at === undefined ? null : Number(kill.status.at);
  const killAdvice = kill.status.halted ? adviceFor("kill_switch_active") : null;
  const stateAdvice =
    state.state === "HALTED"
      ? adviceFor("trading_state_halted")
      : state.state === "REDUCE_ONLY"
        ? adviceFor("reduce_only_state")
        : null;
  const blockedSymbols = symbols.filter((s) => s.blocker !== null).length;
  const headline = kill.status.halted
    ? { trading: false, text: "Kill switch ON — trading halted" }
    : state.halted
      ? { trading: false, text: `Trading state ${state.state} — nothing executes` }
      : blockedSymbols > 0
        ? {
            trading: true,
            text: `Trading allowed; ${blockedSymbols} of ${symbols.length} symbols blocked`,
          }
        : { trading: true, text: "Trading allowed" };
  return {
    at: nowMs / 1000,
    atIso: isoOf(nowMs / 1000),
    headline,
    killSwitch: {
      halted: kill.status.halted,
      value: kill.status.value,
      reason: kill.status.reason ?? null,
      by: kill.status.by ?? null,
      at: killAt !== null && Number.isFinite(killAt) ? killAt : null,
      atIso: isoOf(killAt),
      mode: kill.mode.mode,
      modeSource: kill.mode.source,
      advice: killAdvice,
    },
    tradingState: { state: state.state, halted: state.halted, value: state.value, advice: stateAdvice },
    services,
    p35: a.p35,
    windows,
    topReasons: a.reasons.map((r) => ({ ...r, advice: adviceFor(r.reason) })),
    symbols,
    recentResults: recent.results.slice(0, RECENT_RESULTS),
    alerts: recent.alerts.filter((x) => x.ageSec === null || x.ageSec <= OPEN_ALERT_MAX_AGE_SEC),
    deadLetters: { total: recent.deadLetterTotal, newest: recent.deadLetters },
  };
}
