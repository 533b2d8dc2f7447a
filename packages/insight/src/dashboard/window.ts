import { keys, type P35Window } from "@quantum/contracts";
import type { Redis } from "ioredis";
import { numberField } from "../key-view.js";

/** The reason P3.5 records for a successful result: shown as success, never counted as a gate. */
export const SUCCESS_REASON = "none";
/** Display order of decisions; any other value (stored by another writer) follows by count. */
export const DECISION_ORDER = ["EXECUTE", "SKIP", "BLOCKED", "ERROR", "UNKNOWN"] as const;

export interface WindowData {
  readonly window: P35Window;
  /** Decision → count, as P3.5 last wrote it. */
  readonly decisions: Readonly<Record<string, number>>;
  /** All results in the window: sum of decision counts (the reason ZSET holds only the top 50). */
  readonly total: number;
  /** Reasons best first (ties by name), `none` included. */
  readonly reasons: ReadonlyArray<{ readonly reason: string; readonly score: number }>;
}

export interface P35Freshness {
  readonly present: boolean;
  readonly lastTs: number | null;
  /** Seconds since the last processed result (last_ts); null without one. */
  readonly lastAgeSec: number | null;
  readonly processedTotal: number | null;
}

/** Percent with two decimals (display); comparisons use the unrounded fraction. */
export function pct(part: number, total: number): number {
  return total > 0 ? Math.round((part / total) * 10_000) / 100 : 0;
}

function byScoreThenName(a: { score: number; reason: string }, b: { score: number; reason: string }): number {
  return b.score - a.score || (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0);
}

/** HGETALL of the decision counts and the whole reason ZSET of one window, in one round trip. */
export async function readWindow(redis: Redis, window: P35Window): Promise<WindowData> {
  const replies =
    (await redis
      .pipeline()
      .hgetall(keys.p35DecisionCounts(window))
      .zrevrange(keys.p35ReasonTop(window), 0, -1, "WITHSCORES")
      .exec()) ?? [];
  for (const [err] of replies) if (err) throw err;
  const rawCounts = (replies[0]?.[1] ?? {}) as Record<string, string>;
  const flat = (replies[1]?.[1] ?? []) as string[];
  const decisions: Record<string, number> = {};
  let total = 0;
  for (const [d, v] of Object.entries(rawCounts)) {
    const n = Number(v);
    if (Number.isFinite(n) && n > 0) {
      decisions[d] = n;
      total += n;
    }
  }
  const reasons: Array<{ reason: string; score: number }> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const score = Number(flat[i + 1]);
    if (Number.isFinite(score) && score > 0) reasons.push({ reason: flat[i]!, score });
  }
  reasons.sort(byScoreThenName);
  // A window without decision counts but with reasons (another writer): fall back to the reason sum.
  if (total === 0) total = reasons.reduce((s, r) => s + r.score, 0);
  return { window, decisions, total, reasons };
}

/** Decision rows in display order with their percentages. */
export function decisionRows(w: WindowData): Array<{ decision: string; count: number; pct: number }> {
  const known = DECISION_ORDER.filter((d) => (w.decisions[d] ?? 0) > 0);
  const others = Object.keys(w.decisions)
    .filter((d) => !(DECISION_ORDER as readonly string[]).includes(d))
    .sort((a, b) => (w.decisions[b] ?? 0) - (w.decisions[a] ?? 0) || (a < b ? -1 : 1));
  return [...known, ...others].map((d) => {
    const count = w.decisions[d] ?? 0;
    return { decision: d, count, pct: pct(count, w.total) };
  });
}

/** How recent P3.5's view is (`quantum:p35:status`). */
export async function readP35Freshness(redis: Redis, nowMs: number): Promise<P35Freshness> {
  const raw = await redis.hgetall(keys.p35Status);
  const present = Object.keys(raw).length > 0;
  const lastTs = present ? numberField(raw, "last_ts") : null;
  return {
    present,
    lastTs,
    lastAgeSec: lastTs === null ? null : Math.max(0, nowMs / 1000 - lastTs),
    processedTotal: present ? numberField(raw, "processed_total") : null,
  };
}

export { byScoreThenName };
