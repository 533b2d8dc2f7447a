import { APPLY_MODES, type ApplyMode, keyPatterns, keys } from "@quantum/contracts";
import type { Redis } from "ioredis";
import { numberField } from "./key-view.js";

/** The three services of this repo, their default metrics ports and systemd units. */
export const KNOWN_SERVICES = [
  { service: "apply-layer", defaultPort: 8000, unit: "quantum-apply-layer" },
  { service: "position-state-brain", defaultPort: 8045, unit: "quantum-position-state-brain" },
  { service: "decision-intelligence", defaultPort: 8046, unit: "quantum-p35-decision-intelligence" },
] as const;
export type KnownService = (typeof KNOWN_SERVICES)[number]["service"];

/** A status hash whose heartbeat is older than this is shown as stale (heartbeat every 5 s, TTL 30 s). */
export const STALE_AFTER_SEC = 15;

export type ServiceState = "running" | "stale" | "not running";

export interface ServiceStatusRow {
  readonly service: string;
  readonly state: ServiceState;
  readonly mode: string | null;
  readonly venue: string | null;
  readonly pid: number | null;
  readonly hostname: string | null;
  readonly consumerName: string | null;
  readonly version: string | null;
  readonly metricsPort: number | null;
  readonly startedAt: number | null;
  readonly heartbeatTs: number | null;
  /** Seconds since the last heartbeat; null when there is none. */
  readonly heartbeatAgeSec: number | null;
}

export interface ModeResult {
  readonly services: readonly ServiceStatusRow[];
  readonly staleAfterSec: number;
}

function rowOf(service: string, raw: Record<string, string> | null, nowMs: number): ServiceStatusRow {
  const hb = numberField(raw, "heartbeat_ts");
  const age = hb === null ? null : Math.max(0, nowMs / 1000 - hb);
  const state: ServiceState =
    raw === null ? "not running" : age !== null && age <= STALE_AFTER_SEC ? "running" : "stale";
  const text = (f: string) => {
    const v = raw?.[f];
    return v === undefined || v === "" ? null : v;
  };
  const port = numberField(raw, "metrics_port");
  return {
    service,
    state,
    mode: text("mode"),
    venue: text("venue"),
    pid: numberField(raw, "pid"),
    hostname: text("hostname"),
    consumerName: text("consumer_name"),
    version: text("version"),
    metricsPort: port !== null && Number.isInteger(port) && port > 0 && port < 65536 ? port : null,
    startedAt: numberField(raw, "started_at"),
    heartbeatTs: hb,
    heartbeatAgeSec: age,
  };
}

async function hgetallMany(redis: Redis, keyNames: readonly string[]): Promise<Record<string, string>[]> {
  if (keyNames.length === 0) return [];
  const p = redis.pipeline();
  for (const k of keyNames) p.hgetall(k);
  const replies = (await p.exec()) ?? [];
  return replies.map(([err, v]) => {
    if (err) throw err;
    return (v ?? {}) as Record<string, string>;
  });
}

/** SCAN for status hashes of services other than the known three (a dev governor, a bot). */
async function otherStatusKeys(redis: Redis): Promise<string[]> {
  const known = new Set<string>(KNOWN_SERVICES.map((s) => keys.serviceStatus(s.service)));
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", keyPatterns.serviceStatus, "COUNT", 200);
    cursor = next;
    for (const k of batch) if (!known.has(k) && !found.includes(k)) found.push(k);
  } while (cursor !== "0" && found.length < 100);
  return found.sort();
}

/** What each service runs as, from its `quantum:service:<service>:status` hash (`quantumctl mode`). */
export async function readServiceStatuses(
  redis: Redis,
  opts: { nowMs?: number; includeOthers?: boolean } = {},
): Promise<ModeResult> {
  const nowMs = opts.nowMs ?? Date.now();
  const knownKeys = KNOWN_SERVICES.map((s) => keys.serviceStatus(s.service));
  const others = opts.includeOthers === false ? [] : await otherStatusKeys(redis);
  const hashes = await hgetallMany(redis, [...knownKeys, ...others]);
  const rows: ServiceStatusRow[] = [];
  KNOWN_SERVICES.forEach((s, i) => {
    const raw = hashes[i] ?? {};
    rows.push(rowOf(s.service, Object.keys(raw).length > 0 ? raw : null, nowMs));
  });
  others.forEach((key, j) => {
    const raw = hashes[KNOWN_SERVICES.length + j] ?? {};
    const name = raw.service;
    // Only hashes that name themselves consistently (the key is built from the name).
    if (name !== undefined && keys.serviceStatus(name) === key) rows.push(rowOf(name, raw, nowMs));
  });
  return { services: rows, staleAfterSec: STALE_AFTER_SEC };
}

export type ModeSource = "option" | "live service" | "APPLY_MODE" | "assumed";

export interface ResolvedMode {
  readonly mode: ApplyMode;
  readonly source: ModeSource;
  /** The service whose status gave the mode (source "live service"). */
  readonly service: string | null;
}

export function parseApplyMode(v: string | null | undefined): ApplyMode | null {
  const m = v?.trim().toLowerCase();
  return (APPLY_MODES as readonly string[]).includes(m ?? "") ? (m as ApplyMode) : null;
}

/**
 * The one rule for "which mode is this Redis in", used by `kill status` (to judge a missing key), `permit
 * grant` (refused unless a live service reports a non-production mode) and `close` (--reason required in
 * production): `--mode` when given; else the live services' status hashes (any live service reporting
 * production makes it production; else the Apply Layer's mode, else another live service's); else
 * APPLY_MODE; else production (fail closed).
 */
export async function effectiveMode(
  redis: Redis,
  opts: { option?: ApplyMode; envMode?: string; nowMs?: number } = {},
): Promise<ResolvedMode> {
  if (opts.option !== undefined) return { mode: opts.option, source: "option", service: null };
  const { services } = await readServiceStatuses(redis, {
    includeOthers: false,
    ...(opts.nowMs !== undefined ? { nowMs: opts.nowMs } : {}),
  });
  const live = services.filter((s) => s.state === "running");
  const prod = live.find((s) => s.mode === "production" || s.venue === "production");
  if (prod !== undefined) return { mode: "production", source: "live service", service: prod.service };
  const ordered = [...live].sort(
    (a, b) => Number(b.service === "apply-layer") - Number(a.service === "apply-layer"),
  );
  for (const s of ordered) {
    const mode = parseApplyMode(s.mode);
    if (mode !== null) return { mode, source: "live service", service: s.service };
  }
  const fromEnv = parseApplyMode(opts.envMode);
  if (fromEnv !== null) return { mode: fromEnv, source: "APPLY_MODE", service: null };
  return { mode: "production", source: "assumed", service: null };
}
