import { type ApplyMode, P35_WINDOWS, type P35Window, streams } from "@quantum/contracts";
import {
  type AlertRow,
  alertRow,
  decisionRows,
  isoOf,
  type ResultRow,
  readServiceStatuses,
  readWindow,
  resultRow,
  type ServiceStatusRow,
} from "@quantum/insight";
import type { Redis } from "ioredis";
import { type KillStatusResult, killStatus } from "./kill.js";
import { type StateShowResult, stateShow } from "./state.js";

export const STATUS_LAST_RESULTS = 5;
export const STATUS_LAST_ALERTS = 3;

export interface WindowSummary {
  readonly window: P35Window;
  readonly total: number;
  readonly decisions: ReadonlyArray<{ decision: string; count: number; pct: number }>;
  /** Best reason other than `none`. */
  readonly topGate: { readonly reason: string; readonly score: number } | null;
}

/** A result as `status` shows it. */
export type LastResult = ResultRow;
/** An alert as `status` shows it. */
export type LastAlert = AlertRow;

export interface StatusResult {
  readonly at: number;
  readonly atIso: string | null;
  readonly killSwitch: KillStatusResult;
  readonly tradingState: StateShowResult;
  readonly services: readonly ServiceStatusRow[];
  readonly windows: readonly WindowSummary[];
  readonly lastResults: readonly LastResult[];
  readonly lastAlerts: readonly LastAlert[];
}

/** One screen of the system: kill switch, trading state, services, P3.5 windows, last results and alerts. */
export async function statusSnapshot(
  redis: Redis,
  opts: { nowMs?: number; mode?: ApplyMode; envMode?: string } = {},
): Promise<StatusResult> {
  const nowMs = opts.nowMs ?? Date.now();
  const killSwitch = await killStatus(redis, {
    ...(opts.mode !== undefined ? { mode: opts.mode } : {}),
    ...(opts.envMode !== undefined ? { envMode: opts.envMode } : {}),
  });
  const tradingState = await stateShow(redis);
  const { services } = await readServiceStatuses(redis, { nowMs });
  const windows: WindowSummary[] = [];
  for (const w of Object.keys(P35_WINDOWS) as P35Window[]) {
    const data = await readWindow(redis, w);
    const gate = data.reasons.find((r) => r.reason !== "none") ?? null;
    windows.push({ window: w, total: data.total, decisions: decisionRows(data), topGate: gate });
  }
  const results = await redis.xrevrange(streams.applyResult, "+", "-", "COUNT", STATUS_LAST_RESULTS);
  const lastResults = results.map((e) => resultRow(e, nowMs));
  const alerts = await redis.xrevrange(streams.p35Alerts, "+", "-", "COUNT", STATUS_LAST_ALERTS);
  const lastAlerts = alerts.map((e) => alertRow(e, nowMs));
  return {
    at: nowMs / 1000,
    atIso: isoOf(nowMs / 1000),
    killSwitch,
    tradingState,
    services,
    windows,
    lastResults,
    lastAlerts,
  };
}
