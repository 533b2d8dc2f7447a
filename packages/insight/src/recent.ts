import { fieldsToRecord, streams } from "@quantum/contracts";
import type { Redis } from "ioredis";

/** One apply.result entry as operators read it. */
export interface ResultRow {
  readonly id: string;
  readonly planId: string | null;
  readonly symbol: string | null;
  readonly decision: string | null;
  /** `reason`, else a non-empty `error` (other producers). */
  readonly reason: string | null;
  readonly detail: string | null;
  readonly executed: string | null;
  readonly timestamp: number | null;
  readonly ageSec: number | null;
}

/** One P3.5 alert. */
export interface AlertRow {
  readonly id: string;
  readonly severity: string | null;
  readonly reason: string | null;
  readonly share: string | null;
  readonly window: string | null;
  readonly timestamp: number | null;
  readonly ageSec: number | null;
}

/** One dead-letter entry (the raw fields are left out: they can be large). */
export interface DeadLetterRow {
  readonly id: string;
  readonly stream: string | null;
  readonly entryId: string | null;
  readonly service: string | null;
  readonly error: string | null;
  readonly timestamp: number | null;
  readonly ageSec: number | null;
}

/** A time field: epoch seconds, or milliseconds from other producers; null when it is not a number. */
export function epochSec(v: string | undefined): number | null {
  if (v === undefined || v.trim() === "") return null;
  const n = Number(v);
  if (!Number.isFinite(n)) return null;
  return n > 1e11 ? n / 1000 : n;
}

const text = (v: string | undefined): string | null => (v === undefined || v === "" ? null : v);
const ageOf = (ts: number | null, nowMs: number) => (ts === null ? null : Math.max(0, nowMs / 1000 - ts));

type Entry = [id: string, fields: string[]];

export function resultRow([id, flat]: Entry, nowMs: number): ResultRow {
  const r = fieldsToRecord(flat);
  const ts = epochSec(r.timestamp);
  return {
    id,
    planId: text(r.plan_id),
    symbol: text(r.symbol),
    decision: text(r.decision),
    reason: text(r.reason) ?? text(r.error),
    detail: text(r.detail),
    executed: text(r.executed),
    timestamp: ts,
    ageSec: ageOf(ts, nowMs),
  };
}

export function alertRow([id, flat]: Entry, nowMs: number): AlertRow {
  const a = fieldsToRecord(flat);
  const ts = epochSec(a.timestamp);
  return {
    id,
    severity: text(a.severity),
    reason: text(a.reason),
    share: text(a.share),
    window: text(a.window),
    timestamp: ts,
    ageSec: ageOf(ts, nowMs),
  };
}

export function deadLetterRow([id, flat]: Entry, nowMs: number): DeadLetterRow {
  const d = fieldsToRecord(flat);
  const ts = epochSec(d.ts);
  return {
    id,
    stream: text(d.stream),
    entryId: text(d.id),
    service: text(d.service),
    error: text(d.error),
    timestamp: ts,
    ageSec: ageOf(ts, nowMs),
  };
}

/** The newest `count` entries of apply.result, the P3.5 alerts and the dead letters, and the dead-letter total. */
export async function readRecent(
  redis: Redis,
  opts: { nowMs: number; results: number; alerts: number; deadLetters: number },
): Promise<{
  results: ResultRow[];
  alerts: AlertRow[];
  deadLetters: DeadLetterRow[];
  deadLetterTotal: number;
}> {
  const replies =
    (await redis
      .pipeline()
      .xrevrange(streams.applyResult, "+", "-", "COUNT", opts.results)
      .xrevrange(streams.p35Alerts, "+", "-", "COUNT", opts.alerts)
      .xrevrange(streams.deadLetter, "+", "-", "COUNT", opts.deadLetters)
      .xlen(streams.deadLetter)
      .exec()) ?? [];
  for (const [err] of replies) if (err) throw err;
  const entries = (i: number) => (replies[i]?.[1] ?? []) as Entry[];
  return {
    results: entries(0).map((e) => resultRow(e, opts.nowMs)),
    alerts: entries(1).map((e) => alertRow(e, opts.nowMs)),
    deadLetters: entries(2).map((e) => deadLetterRow(e, opts.nowMs)),
    deadLetterTotal: Number(replies[3]?.[1] ?? 0),
  };
}
