import type { P35SymbolWindow } from "@quantum/contracts";
import type { Redis } from "ioredis";
import type { HealthOptions } from "../health.js";
import {
  type QueryAResult,
  type QueryCResult,
  type QueryDResult,
  queryA,
  queryC,
  queryD,
} from "./queries.js";
import { type QueryEResult, queryE } from "./query-e.js";
import { type QueryBResult, queryB } from "./symbol-windows.js";

export const DASHBOARD_QUERIES = ["a", "b", "c", "d", "e", "all"] as const;
export type DashboardQuery = (typeof DASHBOARD_QUERIES)[number];

export interface DashboardOptions {
  nowMs?: number;
  /** B: symbols (null = all seen). */
  symbols?: readonly string[] | null;
  /** B: the per-symbol window (default 15m). */
  symbolWindow?: P35SymbolWindow;
  /** C and D: gate share threshold in percent (default 40). */
  thresholdPct?: number;
  /** D: minimum results in the window before anything is judged (default 1). */
  minTotal?: number;
  /** E: how to reach the services. */
  health?: HealthOptions;
}

export interface DashboardAllResult {
  readonly query: "all";
  readonly a: QueryAResult;
  readonly b: QueryBResult;
  readonly c: QueryCResult;
  readonly d: QueryDResult;
  readonly e: QueryEResult;
}

export type DashboardResult =
  | QueryAResult
  | QueryBResult
  | QueryCResult
  | QueryDResult
  | QueryEResult
  | DashboardAllResult;

/** True when the result is a "condition found" (exit 3): D crossed, E unhealthy, or either inside `all`. */
export function dashboardCondition(r: DashboardResult): boolean {
  switch (r.query) {
    case "d":
      return r.crossed.length > 0;
    case "e":
      return !r.healthy;
    case "all":
      return r.d.crossed.length > 0 || !r.e.healthy;
    default:
      return false;
  }
}

/** `dashboard a|b|c|d|e|all`. */
export async function dashboard(
  redis: Redis,
  query: DashboardQuery,
  opts: DashboardOptions = {},
): Promise<DashboardResult> {
  const nowMs = opts.nowMs ?? Date.now();
  const b = () =>
    queryB(redis, {
      nowMs,
      ...(opts.symbols !== undefined ? { symbols: opts.symbols } : {}),
      ...(opts.symbolWindow !== undefined ? { window: opts.symbolWindow } : {}),
    });
  const threshold = opts.thresholdPct !== undefined ? { thresholdPct: opts.thresholdPct } : {};
  const d = () =>
    queryD(redis, { ...threshold, ...(opts.minTotal !== undefined ? { minTotal: opts.minTotal } : {}) });
  const e = () => queryE(redis, { ...opts.health, nowMs });
  switch (query) {
    case "a":
      return queryA(redis, { nowMs });
    case "b":
      return b();
    case "c":
      return queryC(redis, threshold);
    case "d":
      return d();
    case "e":
      return e();
    case "all":
      return {
        query: "all",
        a: await queryA(redis, { nowMs }),
        b: await b(),
        c: await queryC(redis, threshold),
        d: await d(),
        e: await e(),
      };
  }
}
