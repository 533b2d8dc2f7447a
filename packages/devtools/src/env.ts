import {
  envBool,
  envInt,
  envList,
  envLogLevel,
  envNumber,
  envString,
  redisConfigShape,
} from "@quantum/runtime";
import { z } from "zod";

/** Environment of the dev governor (demo stack and tests only; never part of a production deploy). */
export const governorEnvSchema = z.object({
  GOVERNOR_BLOCK_SYMBOLS: envList({ case: "upper" })
    .default([])
    .describe("Symbols whose EXECUTE plans get quantum:governor:block:<plan_id> instead of a permit"),
  GOVERNOR_DENY_SYMBOLS: envList({ case: "upper" })
    .default([])
    .describe("Symbols whose EXECUTE plans get a permit with granted=false"),
  GOVERNOR_DELAY_MS: envInt({ min: 0, max: 60_000 }).default(0).describe("Delay before each answer, ms"),
  GOVERNOR_PERMIT_TTL_SEC: envInt({ min: 1 })
    .default(60)
    .describe("TTL of permits and block records, seconds"),
  GOVERNOR_CONSUMER_NAME: envString().optional().describe("Consumer name in group governor"),
  LOG_LEVEL: envLogLevel().default("info").describe("Log level"),
  ...redisConfigShape,
});

/** Environment of the demo proposal feeder (demo stack only). */
export const feederEnvSchema = z.object({
  FEEDER_SYMBOLS: envList({ case: "upper", nonEmpty: true })
    .default(["BTCUSDT", "ETHUSDT", "SOLUSDT"])
    .describe("Symbols to keep paper positions and proposals for (paper exchange symbols)"),
  FEEDER_INTERVAL_SEC: envNumber({ min: 0.1, max: 3600 })
    .default(10)
    .describe("Seconds between proposal rounds (fractions allowed)"),
  FEEDER_SEED: envInt({ min: 0 }).optional().describe("Random seed (replayable runs); default: time based"),
  FEEDER_STREAM: envBool()
    .default(false)
    .describe("Also XADD each proposal to quantum:stream:harvest.proposal"),
  LOG_LEVEL: envLogLevel().default("info").describe("Log level"),
  ...redisConfigShape,
});
