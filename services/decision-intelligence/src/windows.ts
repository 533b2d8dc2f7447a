import { keys, P35_WINDOWS, type P35Window } from "@quantum/contracts";
import type { ChainableCommander, Redis } from "ioredis";
import { bucketId } from "./time.js";

/** TTL of the window keys (24 h). */
export const WINDOW_TTL_SEC = 24 * 3600;
/** Reasons kept in each `reason:top:<w>` ZSET. */
export const TOP_REASONS = 50;
/** Minutes of history the widest window needs (1h = 60 complete minutes + the current one). */
export const MAX_WINDOW_MINUTES = Math.max(...Object.values(P35_WINDOWS));

const WINDOWS = Object.keys(P35_WINDOWS) as P35Window[];

export interface ReasonCount {
  reason: string;
  count: number;
}

/** One window's aggregate. */
export interface WindowSnapshot {
  window: P35Window;
  /** Length n in minutes: the window covers the current UTC minute plus the n previous complete ones. */
  minutes: number;
  /** Sum of all decision counts (every result in the window). */
  total: number;
  /** decision → count (only decisions that occurred). */
  decisions: Record<string, number>;
  /** All reasons, highest count first (ties by name). */
  reasons: ReasonCount[];
}

/** A bucket hash as read: field → count text. */
export type BucketHash = Readonly<Record<string, string>>;

/** UTC minute indexes a window of `minutes` covers at `nowMinute`: the current one and `minutes` before it. */
export function windowMinutes(nowMinute: number, minutes: number): number[] {
  const out: number[] = [];
  for (let m = nowMinute - minutes; m <= nowMinute; m++) out.push(m);
  return out;
}

function count(v: string | undefined): number {
  if (v === undefined || !/^\d{1,15}$/.test(v)) return 0;
  return Number(v);
}

function add(target: Map<string, number>, k: string, n: number): void {
  if (n > 0) target.set(k, (target.get(k) ?? 0) + n);
}

/**
 * Aggregate the four windows from minute buckets keyed by UTC minute index (missing minutes = empty).
 * Pure: `nowMinute` is the current UTC minute index.
 */
export function aggregateWindows(
  buckets: ReadonlyMap<number, BucketHash>,
  nowMinute: number,
): WindowSnapshot[] {
  return WINDOWS.map((window) => {
    const minutes = P35_WINDOWS[window];
    const decisions = new Map<string, number>();
    const reasons = new Map<string, number>();
    for (const m of windowMinutes(nowMinute, minutes)) {
      const hash = buckets.get(m);
      if (hash === undefined) continue;
      for (const [field, value] of Object.entries(hash)) {
        if (field.startsWith("decision:")) add(decisions, field.slice(9), count(value));
        else if (field.startsWith("reason:")) add(reasons, field.slice(7), count(value));
      }
    }
    let total = 0;
    for (const n of decisions.values()) total += n;
    const sorted = [...reasons.entries()]
      .map(([reason, n]) => ({ reason, count: n }))
      .sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0));
    return { window, minutes, total, decisions: Object.fromEntries(decisions), reasons: sorted };
  });
}

/** Read the buckets of the widest window (current minute + 60 before it) in one pipelined round trip. */
export async function readBuckets(redis: Redis, nowMinute: number): Promise<Map<number, BucketHash>> {
  const minutes = windowMinutes(nowMinute, MAX_WINDOW_MINUTES);
  const pipe = redis.pipeline();
  for (const m of minutes) pipe.hgetall(keys.p35Bucket(bucketId(m)));
  const replies = (await pipe.exec()) ?? [];
  const out = new Map<number, BucketHash>();
  minutes.forEach((m, i) => {
    const [err, hash] = replies[i] ?? [new Error("no reply"), null];
    if (err !== null) throw err;
    if (hash !== null && typeof hash === "object" && Object.keys(hash).length > 0) {
      out.set(m, hash as BucketHash);
    }
  });
  return out;
}

/**
 * Replace every window's `decision:counts:<w>` hash and `reason:top:<w>` ZSET in one MULTI/EXEC: readers see
 * the old or the new snapshot, never a half-written one. An empty window's keys are deleted (no stale window
 * is left for 24 h).
 */
export async function writeWindows(
  redis: Redis,
  snapshots: readonly WindowSnapshot[],
  /** More writes to make in the same transaction (the per-symbol windows). */
  extra?: (tx: ChainableCommander) => void,
): Promise<void> {
  const tx = redis.multi();
  for (const s of snapshots) {
    const countsKey = keys.p35DecisionCounts(s.window);
    const topKey = keys.p35ReasonTop(s.window);
    tx.del(countsKey, topKey);
    if (s.total > 0) {
      tx.hset(countsKey, s.decisions);
      tx.expire(countsKey, WINDOW_TTL_SEC);
    }
    const top = s.reasons.slice(0, TOP_REASONS);
    if (top.length > 0) {
      tx.zadd(topKey, ...top.flatMap((r) => [String(r.count), r.reason]));
      tx.expire(topKey, WINDOW_TTL_SEC);
    }
  }
  extra?.(tx);
  const replies = await tx.exec();
  if (replies === null) throw new Error("window update transaction was aborted");
  for (const [err] of replies) if (err !== null) throw err;
}
