import {
  closeRedis,
  consumerName,
  createRedis,
  type Logger,
  loadScripts,
  redisReady,
} from "@quantum/runtime";
import { type P35Config, SERVICE_NAME } from "./config.js";
import { dayStartMs, MS_PER_DAY, type RollupOutcome, rollupDay } from "./day-rollups.js";
import { SERVICE_SCRIPTS } from "./scripts.js";

export interface RollupOnceResult {
  readonly day: string;
  readonly outcome: RollupOutcome | { written: false; reason: "bad_day" | "not_past" };
  /** 0 written or already there; 2 not a past UTC day; 3 none of its buckets exists, or it is past retention. */
  readonly exitCode: number;
}

/**
 * The on-demand rollup of one past UTC day from its minute buckets (kept 48 h): the same write-once script
 * as the automatic one, so running it for a day that is already rolled up changes nothing.
 */
export async function rollupDayOnce(config: P35Config, day: string, log: Logger): Promise<RollupOnceResult> {
  const start = dayStartMs(day);
  if (start === null) return { day, outcome: { written: false, reason: "bad_day" }, exitCode: 2 };
  if (start + MS_PER_DAY > Date.now())
    return { day, outcome: { written: false, reason: "not_past" }, exitCode: 2 };
  const redis = createRedis(config, { name: SERVICE_NAME, logger: log });
  loadScripts(redis, SERVICE_SCRIPTS);
  try {
    if (!(await redisReady(redis, 10_000))) throw new Error("redis not reachable within 10 s");
    const outcome = await rollupDay(redis, day, {
      retentionDays: config.P35_DAY_RETENTION_DAYS,
      writer: `${consumerName(SERVICE_NAME, config.P35_CONSUMER_NAME)}:on-demand`,
    });
    return { day, outcome, exitCode: outcome.written || outcome.reason === "exists" ? 0 : 3 };
  } finally {
    await closeRedis(redis);
  }
}
