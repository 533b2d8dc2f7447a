import { SYMBOL_RE } from "@quantum/contracts";
import {
  envBool,
  envInt,
  envList,
  envLogLevel,
  envNumber,
  envPort,
  redisConfigShape,
} from "@quantum/runtime";
import { z } from "zod";

/** Service name: logs, metrics, dead letters, status key. */
export const SERVICE_NAME = "decision-intelligence";

/** Consumer start ids accepted for P35_START_ID: `0` (whole history), `$` (new entries only) or an entry id. */
const START_ID_RE = /^(0|\$|\d{1,20}(-\d{1,20})?)$/;

function startId() {
  return z.string().transform((raw, ctx) => {
    const v = raw.trim();
    if (START_ID_RE.test(v)) return v;
    ctx.addIssue({
      code: "custom",
      message: `expected 0, $ or a stream entry id, got "${raw.slice(0, 40)}"`,
    });
    return z.NEVER;
  });
}

const share = () => envNumber({ min: 0, max: 1 });

/**
 * P3.5 Decision Intelligence configuration, validated once at startup. Every variable carries a
 * description: the env docs are generated from this schema.
 */
export const configSchema = z
  .object({
    P35_METRICS_PORT: envPort()
      .default(8046)
      .describe("Port of /metrics, /health, /ready and the status page (/ and /status.json)"),
    ENABLE_SYMBOL_BREAKDOWN: envBool()
      .default(true)
      .describe("Keep per-symbol reason counters (symbol_reason:<SYMBOL>:<reason>) in the minute buckets"),
    P35_BATCH_SIZE: envInt({ min: 1, max: 5000 })
      .default(500)
      .describe("Entries read per XREADGROUP; each batch is one atomic bucket update and one XACK"),
    P35_SNAPSHOT_INTERVAL_SEC: envNumber({ min: 0.05, max: 3600 })
      .default(10)
      .describe("Seconds between recomputations of the 1m/5m/15m/1h windows and the alert checks"),
    P35_ALERT_THRESHOLD_MEDIUM: share()
      .default(0.4)
      .describe("Share of the top non-none reason in the 5m window that raises a MEDIUM alert"),
    P35_ALERT_THRESHOLD_HIGH: share()
      .default(0.6)
      .describe("Share of the top non-none reason in the 5m window that raises a HIGH alert"),
    P35_ALERT_THRESHOLD_CRITICAL: share()
      .default(0.8)
      .describe("Share of the top non-none reason in the 5m window that raises a CRITICAL alert"),
    P35_ALERT_MIN_TOTAL: envInt({ min: 1 })
      .default(100)
      .describe("No alert while the alert's window holds fewer results than this"),
    P35_ALERT_COOLDOWN: envInt({ min: 1 })
      .default(300)
      .describe("Seconds during which a (reason, severity) pair alerts at most once (kept in Redis)"),
    P35_STUCK_MINUTES: envInt({ min: 1, max: 60 })
      .default(15)
      .describe(
        "A symbol is stuck when it had plans but no EXECUTE in the current minute and this many minutes before it",
      ),
    P35_STUCK_MIN_PLANS: envInt({ min: 1 })
      .default(3)
      .describe("Results (plans) a symbol needs in the stuck span before it can be judged stuck"),
    P35_ALLOWLIST: envList({ case: "upper", nonEmpty: true })
      .refine((list) => list.every((s) => SYMBOL_RE.test(s)), "every item must be a symbol like BTCUSDT")
      .default(["BTCUSDT"])
      .describe(
        "Comma-separated symbols the stuck check judges and exports as p35_symbol_stuck{symbol} (APPLY_ALLOWLIST accepted)",
      ),
    P35_DAY_RETENTION_DAYS: envInt({ min: 1, max: 3650 })
      .default(90)
      .describe("Days a daily rollup quantum:p35:day:<YYYYMMDD> is kept after its day ends"),
    P35_START_ID: startId()
      .default("0")
      .describe("Start id of a newly created consumer group: 0 replays retained history, $ new entries only"),
    LOG_LEVEL: envLogLevel().default("info").describe("Log level, any case (WARNING and CRITICAL accepted)"),
    P35_CONSUMER_NAME: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .describe(
        "Consumer name in the group; default <hostname>-decision-intelligence (stable across restarts)",
      ),
    P33_COOLDOWN_SEC: envNumber({ min: 0, max: 86_400 })
      .default(15)
      .describe("P3.3's cooldown after a fill (as in P3.3's env file): the status page shows the time left"),
    P35_CLAIM_IDLE_MS: envInt({ min: 1000 })
      .default(60_000)
      .describe("Pending entries idle longer than this (from dead consumers) are claimed by this instance"),
    ...redisConfigShape,
  })
  .superRefine((c, ctx) => {
    const t = [c.P35_ALERT_THRESHOLD_MEDIUM, c.P35_ALERT_THRESHOLD_HIGH, c.P35_ALERT_THRESHOLD_CRITICAL];
    if (!(t[0]! <= t[1]! && t[1]! <= t[2]!)) {
      ctx.addIssue({
        code: "custom",
        path: ["P35_ALERT_THRESHOLD_HIGH"],
        message: "thresholds must satisfy MEDIUM <= HIGH <= CRITICAL",
      });
    }
  });

export type P35Config = z.output<typeof configSchema>;
/** Shared names accepted for P3.5 variables (the P35_ name wins when both are set). */
export const configAliases: Readonly<Record<string, readonly string[]>> = {
  P35_ALLOWLIST: ["APPLY_ALLOWLIST"],
};
