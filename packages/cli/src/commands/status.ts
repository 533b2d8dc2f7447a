import { type ApplyMode, fieldsToRecord, P35_WINDOWS, type P35Window, streams } from "@quantum/contracts";
import {
  decisionRows,
  isoOf,
  readServiceStatuses,
  readWindow,
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

export interface LastResult {
  readonly id: string;
  readonly planId: string | null;
  readonly symbol: string | null;
  readonly decision: string | null;
  readonly reason: string | null;
  readonly executed: string | null;
  readonly timestamp: number | null;
  readonly ageSec: number | null;
}

export interface LastAlert {
  readonly id: string;
  readonly severity: string | null;
  readonly reason: string | null;
  readonly share: string | null;
  readonly window: string | null;
  readonly timestamp: number | null;
}

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

/** A result's time: epoch seconds, or milliseconds from older producers. */
function epochSec(v: string | undefined): number | null {
  if (v === undefined || v.trim() === "") return null;
  const n = Number(v);
  if (!Number.isFinite(n)) return null;
  return n > 1e11 ? n / 1000 : n;
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
  const lastResults = results.map(([id, flat]): LastResult => {
    const r = fieldsToRecord(flat);
    const ts = epochSec(r.timestamp);
    const reason = r.reason ?? (r.error !== undefined && r.error !== "" ? r.error : null);
    return {
      id,
      planId: r.plan_id ?? null,
      symbol: r.symbol ?? null,
      decision: r.decision ?? null,
      reason,
      executed: r.executed ?? null,
      timestamp: ts,
      ageSec: ts === null ? null : Math.max(0, nowMs / 1000 - ts),
    };
  });
  const alerts = await redis.xrevrange(streams.p35Alerts, "+", "-", "COUNT", STATUS_LAST_ALERTS);
  const lastAlerts = alerts.map(([id, flat]): LastAlert => {
    const a = fieldsToRecord(flat);
    return {
      id,
      severity: a.severity ?? null,
      reason: a.reason ?? null,
      share: a.share ?? null,
      window: a.window ?? null,
      timestamp: epochSec(a.timestamp),
    };
  });
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
