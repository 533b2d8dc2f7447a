import { keys, streams } from "@quantum/contracts";
import type { Redis } from "ioredis";

/** The streams the summary counts, and their last entry id when the stack started. */
export const COUNTED_STREAMS = {
  plans: streams.applyPlan,
  results: streams.applyResult,
  orders: streams.paperOrders,
} as const;
export type CountedStream = keyof typeof COUNTED_STREAMS;
export type StreamMarks = Record<CountedStream, string>;

/** Last ids of the counted streams ("0-0" when empty), so a run on an existing Redis counts only its own. */
export async function streamMarks(r: Redis): Promise<StreamMarks> {
  const out = { plans: "0-0", results: "0-0", orders: "0-0" };
  for (const k of Object.keys(COUNTED_STREAMS) as CountedStream[]) {
    const last = (await r.xrevrange(COUNTED_STREAMS[k], "+", "-", "COUNT", 1)) as [string, string[]][];
    out[k] = last[0]?.[0] ?? "0-0";
  }
  return out;
}

export interface RunCounts {
  plans: number;
  results: number;
  orders: number;
  /** Results of this run per decision and per reason. */
  decisions: Record<string, number>;
  reasons: Record<string, number>;
  /** P3.5 processed_total (all time on this Redis). */
  p35ProcessedTotal: number | null;
}

const PAGE = 1000;

async function countAfter(
  r: Redis,
  stream: string,
  mark: string,
  each?: (fields: string[]) => void,
): Promise<number> {
  let from = `(${mark}`;
  let n = 0;
  for (;;) {
    const page = (await r.xrange(stream, from, "+", "COUNT", PAGE)) as [string, string[]][];
    for (const [, fields] of page) each?.(fields);
    n += page.length;
    if (page.length < PAGE) return n;
    from = `(${page[page.length - 1]![0]}`;
  }
}

function field(fields: string[], name: string): string | null {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1] ?? null;
  return null;
}

/** What this run produced: plans, results (by decision and reason), paper orders, P3.5 progress. */
export async function runCounts(r: Redis, marks: StreamMarks): Promise<RunCounts> {
  const decisions: Record<string, number> = {};
  const reasons: Record<string, number> = {};
  const results = await countAfter(r, COUNTED_STREAMS.results, marks.results, (f) => {
    const d = field(f, "decision") ?? "?";
    const reason = field(f, "reason") ?? "?";
    decisions[d] = (decisions[d] ?? 0) + 1;
    reasons[reason] = (reasons[reason] ?? 0) + 1;
  });
  const processed = await r.hget(keys.p35Status, "processed_total");
  return {
    plans: await countAfter(r, COUNTED_STREAMS.plans, marks.plans),
    results,
    orders: await countAfter(r, COUNTED_STREAMS.orders, marks.orders),
    decisions,
    reasons,
    p35ProcessedTotal: processed === null ? null : Number(processed),
  };
}

/** `EXECUTE 3, SKIP 2` (largest first). */
export function countsText(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
}
