import { groups, keys, streams } from "@quantum/contracts";
import type { Redis } from "ioredis";
import { type HealthOptions, probeServices, type ServiceHealth } from "../health.js";
import { isoOf, numberField } from "../key-view.js";
import { readServiceStatuses } from "../services.js";

/** The consumer groups query E reports (stream, group). */
export const WATCHED_GROUPS = [
  { stream: streams.applyResult, group: groups.p35 },
  { stream: streams.applyPlan, group: groups.p33 },
  { stream: streams.applyResult, group: groups.p33Ledger },
  { stream: streams.applyPlan, group: groups.governor },
] as const;

export interface GroupHealth {
  readonly stream: string;
  readonly group: string;
  readonly streamExists: boolean;
  readonly groupExists: boolean;
  /** XPENDING count. */
  readonly pending: number | null;
  /** XINFO GROUPS lag (entries not yet delivered); null when Redis cannot tell. */
  readonly lag: number | null;
  readonly lastDeliveredId: string | null;
  readonly consumers: number | null;
  readonly oldestPendingId: string | null;
  readonly newestPendingId: string | null;
  readonly pendingByConsumer: ReadonlyArray<{ readonly consumer: string; readonly count: number }>;
}

export interface P35StatusView {
  readonly present: boolean;
  readonly raw: Readonly<Record<string, string>> | null;
  readonly lastId: string | null;
  readonly lastTs: number | null;
  readonly lastIso: string | null;
  readonly lastAgeSec: number | null;
  readonly processedTotal: number | null;
  readonly pending: number | null;
  readonly lag: number | null;
  readonly consumerName: string | null;
  readonly serviceStartTs: number | null;
}

export interface QueryEResult {
  readonly query: "e";
  readonly p35Status: P35StatusView;
  readonly groups: readonly GroupHealth[];
  readonly services: readonly ServiceHealth[];
  /** Every service /health is 200 and the P3.5 status hash exists. */
  readonly healthy: boolean;
}

function flatToRecord(flat: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}

function num(v: unknown): number | null {
  if (v === null || v === undefined || v === "") return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** XINFO GROUPS + XPENDING summary of one group; a missing stream or group is reported, not thrown. */
export async function readGroupHealth(redis: Redis, stream: string, group: string): Promise<GroupHealth> {
  const absent = (streamExists: boolean): GroupHealth => ({
    stream,
    group,
    streamExists,
    groupExists: false,
    pending: null,
    lag: null,
    lastDeliveredId: null,
    consumers: null,
    oldestPendingId: null,
    newestPendingId: null,
    pendingByConsumer: [],
  });
  if ((await redis.type(stream)) !== "stream") return absent(false);
  const infos = ((await redis.xinfo("GROUPS", stream)) as unknown[]).map(flatToRecord);
  const info = infos.find((g) => g.name === group);
  if (info === undefined) return absent(true);
  const summary = (await redis.xpending(stream, group)) as unknown[];
  const byConsumer = Array.isArray(summary[3]) ? (summary[3] as unknown[][]) : [];
  return {
    stream,
    group,
    streamExists: true,
    groupExists: true,
    pending: num(summary[0]) ?? num(info.pending),
    lag: num(info.lag),
    lastDeliveredId: typeof info["last-delivered-id"] === "string" ? info["last-delivered-id"] : null,
    consumers: num(info.consumers),
    oldestPendingId: typeof summary[1] === "string" ? summary[1] : null,
    newestPendingId: typeof summary[2] === "string" ? summary[2] : null,
    pendingByConsumer: byConsumer.map((c) => ({ consumer: String(c[0]), count: num(c[1]) ?? 0 })),
  };
}

async function readP35Status(redis: Redis, nowMs: number): Promise<P35StatusView> {
  const raw = await redis.hgetall(keys.p35Status);
  const present = Object.keys(raw).length > 0;
  const r = present ? raw : null;
  const lastTs = numberField(r, "last_ts");
  const text = (f: string) => (r?.[f] === undefined || r[f] === "" ? null : (r[f] ?? null));
  return {
    present,
    raw: r,
    lastId: text("last_id"),
    lastTs,
    lastIso: isoOf(lastTs),
    lastAgeSec: lastTs === null ? null : Math.max(0, nowMs / 1000 - lastTs),
    processedTotal: numberField(r, "processed_total"),
    pending: numberField(r, "pending"),
    lag: numberField(r, "lag"),
    consumerName: text("consumer_name"),
    serviceStartTs: numberField(r, "service_start_ts"),
  };
}

/** E: service health — P3.5 status, pending and lag of the four groups, and each service's /health. */
export async function queryE(
  redis: Redis,
  opts: HealthOptions & { nowMs?: number } = {},
): Promise<QueryEResult> {
  const nowMs = opts.nowMs ?? Date.now();
  const p35Status = await readP35Status(redis, nowMs);
  const groupHealth: GroupHealth[] = [];
  for (const g of WATCHED_GROUPS) groupHealth.push(await readGroupHealth(redis, g.stream, g.group));
  const { services: statuses } = await readServiceStatuses(redis, { nowMs, includeOthers: false });
  const services = await probeServices(statuses, opts);
  return {
    query: "e",
    p35Status,
    groups: groupHealth,
    services,
    healthy: p35Status.present && services.every((s) => s.ok),
  };
}
