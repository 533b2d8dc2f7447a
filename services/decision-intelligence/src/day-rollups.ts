import { keys, p35DayId } from "@quantum/contracts";
import type { P35Metrics } from "@quantum/metrics";
import type { Logger } from "@quantum/runtime";
import type { Redis } from "ioredis";
import { ScriptReplyError } from "./script-reply-error.js";
import { bucketId, MS_PER_MINUTE } from "./time.js";

export const MS_PER_DAY = 86_400_000;
const MINUTES_PER_DAY = 1440;
/** Buckets read per pipelined round trip while summing a day. */
const READ_CHUNK = 240;
/**
 * Wait after midnight UTC before rolling up the day that ended: results stamped before midnight that are still
 * on their way (in the stream, in a batch) land in the buckets first.
 */
export const DAY_ROLLUP_GRACE_MS = 2 * MS_PER_MINUTE;

/** `meta:*` fields of a rollup (everything else is a count summed from the buckets). */
export const ROLLUP_META = {
  /** Minute buckets of the day that existed when the rollup was computed (1440 at most). */
  buckets: "meta:buckets",
  /** Epoch seconds of the write. */
  writtenAt: "meta:written_at",
  /** Consumer name of the instance (or the on-demand run) that wrote it. */
  writtenBy: "meta:written_by",
} as const;

const DAY_ID_RE = /^(\d{4})(\d{2})(\d{2})$/;

/** Start (epoch ms) of a `YYYYMMDD` UTC day, or null when the text is not a real date. */
export function dayStartMs(dayId: string): number | null {
  const m = DAY_ID_RE.exec(dayId);
  if (m === null) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return p35DayId(ms) === dayId ? ms : null;
}

export interface DaySums {
  /** field → summed count over the day's buckets. */
  readonly counts: Map<string, number>;
  /** Buckets that existed. */
  readonly buckets: number;
}

/** Sum every count field of the day's 1440 minute buckets (pipelined reads, a chunk at a time). */
export async function sumDayBuckets(redis: Redis, dayStart: number): Promise<DaySums> {
  const firstMinute = dayStart / MS_PER_MINUTE;
  const counts = new Map<string, number>();
  let buckets = 0;
  for (let from = 0; from < MINUTES_PER_DAY; from += READ_CHUNK) {
    const pipe = redis.pipeline();
    for (let m = from; m < from + READ_CHUNK; m++) pipe.hgetall(keys.p35Bucket(bucketId(firstMinute + m)));
    for (const [err, hash] of (await pipe.exec()) ?? []) {
      if (err !== null) throw err;
      const entries = Object.entries((hash ?? {}) as Record<string, string>);
      if (entries.length > 0) buckets++;
      for (const [field, value] of entries) {
        if (!/^\d{1,15}$/.test(value)) continue;
        counts.set(field, (counts.get(field) ?? 0) + Number(value));
      }
    }
  }
  return { counts, buckets };
}

export type RollupOutcome =
  | { written: true; buckets: number; fields: number }
  | { written: false; reason: "exists" | "no_buckets" | "expired" };

export interface RollupOptions {
  retentionDays: number;
  /** Recorded as `meta:written_by`. */
  writer: string;
  nowMs?: number;
  /** Write even when none of the day's buckets exists (the automatic rollup of a quiet day). */
  allowEmpty?: boolean;
}

/**
 * Roll up one UTC day from its minute buckets into `quantum:p35:day:<YYYYMMDD>`, exactly once: the write is
 * one script that does nothing when the rollup exists, so two instances (or a restart) racing on the same day
 * leave the first rollup untouched. Kept `retentionDays` after the end of the day.
 */
export async function rollupDay(redis: Redis, dayId: string, opts: RollupOptions): Promise<RollupOutcome> {
  const start = dayStartMs(dayId);
  if (start === null) throw new RangeError(`not a UTC day (YYYYMMDD): "${dayId.slice(0, 20)}"`);
  const key = keys.p35Day(dayId);
  const nowMs = opts.nowMs ?? Date.now();
  const expireAtSec = Math.floor((start + MS_PER_DAY) / 1000) + opts.retentionDays * 86_400;
  if (expireAtSec * 1000 <= nowMs) return { written: false, reason: "expired" };
  if ((await redis.exists(key)) === 1) return { written: false, reason: "exists" };
  const sums = await sumDayBuckets(redis, start);
  if (sums.buckets === 0 && opts.allowEmpty !== true) return { written: false, reason: "no_buckets" };
  const fields: string[] = [];
  for (const [field, n] of sums.counts) fields.push(field, String(n));
  fields.push(
    ROLLUP_META.buckets,
    String(sums.buckets),
    ROLLUP_META.writtenAt,
    (nowMs / 1000).toFixed(3),
    ROLLUP_META.writtenBy,
    opts.writer,
  );
  const reply = await redis.quantumWriteDayRollup(key, String(expireAtSec), ...fields);
  if (Array.isArray(reply) && reply[0] === "written" && typeof reply[1] === "number") {
    return { written: true, buckets: sums.buckets, fields: reply[1] };
  }
  if (Array.isArray(reply) && reply[0] === "exists") return { written: false, reason: "exists" };
  if (Array.isArray(reply) && reply[0] === "wrongtype") {
    throw new ScriptReplyError("writeDayRollup", `key ${key} has a foreign type`);
  }
  throw new ScriptReplyError("writeDayRollup", `unexpected reply ${JSON.stringify(reply).slice(0, 200)}`);
}

/** The last complete UTC day at `nowMs` once the grace after midnight has passed, else the day before it. */
export function dayToRollUp(nowMs: number): string {
  return p35DayId(nowMs - DAY_ROLLUP_GRACE_MS - MS_PER_DAY);
}

export interface DayRollupsOptions {
  redis: Redis;
  retentionDays: number;
  writer: string;
  metrics: P35Metrics;
  logger: Logger;
}

/**
 * The automatic daily rollup, run from the window loop: once per UTC day (after the grace), roll up the day
 * that ended. A restart checks again (the script makes that a no-op when the rollup exists); a day without
 * any bucket still gets a rollup with `meta:buckets` 0, so a quiet day reads as zero rather than missing.
 */
export class DayRollups {
  private readonly o: DayRollupsOptions;
  private readonly log: Logger;
  private lastDone: string | null = null;

  constructor(opts: DayRollupsOptions) {
    this.o = opts;
    this.log = opts.logger.child({ component: "day-rollup" });
  }

  /** Roll up the last complete day unless this instance already did (or found it done). Throws on Redis errors. */
  async tick(nowMs: number): Promise<void> {
    const day = dayToRollUp(nowMs);
    if (day === this.lastDone) return;
    const out = await rollupDay(this.o.redis, day, {
      retentionDays: this.o.retentionDays,
      writer: this.o.writer,
      nowMs,
      allowEmpty: true,
    });
    this.lastDone = day;
    if (out.written) {
      this.o.metrics.dayRollups.inc();
      this.log.info({ day, buckets: out.buckets, fields: out.fields }, "day rollup written");
    }
  }
}
