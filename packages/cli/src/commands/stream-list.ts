import {
  type ApplyResult,
  type AuditEntry,
  type DeadLetter,
  type DecodeResult,
  decodeApplyResult,
  decodeAuditEntry,
  decodeDeadLetter,
  decodeP35Alert,
  fieldsToRecord,
  type P35Alert,
  streams,
} from "@quantum/contracts";
import type { Redis } from "ioredis";

/** One stream entry as the list commands show it: decoded, or raw with the reason it does not decode. */
export interface StreamRow<T> {
  readonly id: string;
  /** Time of the entry id (ISO-8601 UTC). */
  readonly at: string;
  readonly value: T | null;
  readonly raw: Record<string, string> | null;
  readonly decodeError: string | null;
}

export interface StreamListResult<T> {
  readonly stream: string;
  readonly rows: readonly StreamRow<T>[];
  /** Entries looked at (newest first) to fill the list. */
  readonly scanned: number;
}

export interface ListOptions {
  limit: number;
  /** Only entries at or after this time (epoch ms). */
  sinceMs?: number;
  /** Most entries read (newest first) while filtering; default 100,000. */
  maxScan?: number;
}

const PAGE = 500;

function idTimeIso(id: string): string {
  const ms = Number(id.split("-")[0]);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : id;
}

/** Newest first: read pages of XREVRANGE until `limit` rows pass `keep` (or `sinceMs` / `maxScan` is reached). */
export async function listStream<T>(
  redis: Redis,
  stream: string,
  decode: (fields: Record<string, string>) => DecodeResult<T>,
  opts: ListOptions,
  keep: (row: StreamRow<T>) => boolean = () => true,
): Promise<StreamListResult<T>> {
  const rows: StreamRow<T>[] = [];
  const start = opts.sinceMs === undefined ? "-" : String(Math.max(0, Math.floor(opts.sinceMs)));
  const maxScan = opts.maxScan ?? 100_000;
  let end = "+";
  let scanned = 0;
  while (rows.length < opts.limit && scanned < maxScan) {
    const page = await redis.xrevrange(stream, end, start, "COUNT", PAGE);
    for (const [id, flat] of page) {
      scanned++;
      const fields = fieldsToRecord(flat);
      const d = decode(fields);
      const row: StreamRow<T> = d.ok
        ? { id, at: idTimeIso(id), value: d.value, raw: null, decodeError: null }
        : { id, at: idTimeIso(id), value: null, raw: fields, decodeError: d.error.message };
      if (keep(row)) rows.push(row);
      if (rows.length >= opts.limit) break;
    }
    if (page.length < PAGE) break;
    end = `(${page.at(-1)?.[0]}`;
  }
  return { stream, rows, scanned };
}

/** `results [--symbol S] [--since T] [--limit N]`: apply.result, newest first. */
export function listResults(
  redis: Redis,
  opts: ListOptions & { symbol?: string },
): Promise<StreamListResult<ApplyResult>> {
  return listStream(redis, streams.applyResult, decodeApplyResult, opts, (row) => {
    if (opts.symbol === undefined) return true;
    return (row.value?.symbol ?? row.raw?.symbol) === opts.symbol;
  });
}

/** `deadletters [--limit N]`. */
export function listDeadLetters(redis: Redis, opts: ListOptions): Promise<StreamListResult<DeadLetter>> {
  return listStream(redis, streams.deadLetter, decodeDeadLetter, opts);
}

/** `alerts [--limit N]`: P3.5's alert stream. */
export function listAlerts(redis: Redis, opts: ListOptions): Promise<StreamListResult<P35Alert>> {
  return listStream(redis, streams.p35Alerts, decodeP35Alert, opts);
}

/** `audit [--limit N]`. */
export function listAudit(redis: Redis, opts: ListOptions): Promise<StreamListResult<AuditEntry>> {
  return listStream(redis, streams.audit, decodeAuditEntry, opts);
}
