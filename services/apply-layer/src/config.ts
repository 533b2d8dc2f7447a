import { APPLY_MODES, type ApplyMode, type ExchangeVenue } from "@quantum/contracts";
import {
  type EnvAliases,
  envBool,
  envEnum,
  envInt,
  envList,
  envLogLevel,
  envNumber,
  envPort,
  envString,
  type LoadConfigOptions,
  type LogLevel,
  loadConfig,
  type RedisConnectionConfig,
  redisConfigShape,
} from "@quantum/runtime";
import { z } from "zod";

/** Points where the test-only crash hook can SIGKILL the process (APPLY_TEST_CRASH_AT). */
/** The Apply Layer's name in logs, metrics, consumer names and dead letters. */
export const SERVICE_NAME = "apply-layer";

export const CRASH_POINTS = ["after_claim", "after_submitting", "after_fill", "before_result"] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

/** The venue's short order limit replaced for a test rig (APPLY_TEST_ORDER_LIMIT, "<orders>/<ms>"). */
export interface TestOrderLimit {
  readonly limit: number;
  readonly intervalMs: number;
}

/** "20/2000" → 20 orders per 2,000 ms. */
function envOrderLimit() {
  return z.string().transform((raw, ctx): TestOrderLimit => {
    const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(raw);
    const limit = m === null ? 0 : Number(m[1]);
    const intervalMs = m === null ? 0 : Number(m[2]);
    if (limit >= 1 && intervalMs >= 100) return { limit, intervalMs };
    ctx.addIssue({
      code: "custom",
      message: `expected <orders>/<ms> (orders >= 1, ms >= 100), got "${raw}"`,
    });
    return z.NEVER;
  });
}

/** Alias names accepted (canonical wins when both are set). */
export const APPLY_ENV_ALIASES: EnvAliases = { PROMETHEUS_PORT: ["APPLY_METRICS_PORT"] };

/** Every environment variable of the Apply Layer; docs are generated from these descriptions. */
export const applyEnvShape = {
  APPLY_MODE: envEnum(APPLY_MODES)
    .default("dry_run")
    .describe(
      "dry_run (nothing consumed or sent, would_execute=True) | paper (paper exchange in Redis) | testnet | production",
    ),
  TESTNET: envBool()
    .default(false)
    .describe(
      "Hard mode switch: true BYPASSES BOTH PERMITS (development only); refused with APPLY_MODE=production",
    ),
  APPLY_PERMIT_WAIT_MS: envInt({ min: 0, max: 600_000 })
    .default(1200)
    .describe(
      "Longest wait for both permits per plan (ms); then BLOCKED permit_timeout_or_missing:<missing_*>",
    ),
  APPLY_PERMIT_STEP_MS: envInt({ min: 1, max: 60_000 })
    .default(100)
    .describe("Fallback poll interval of the permit wait (ms); keyspace notifications wake it earlier"),
  APPLY_ALLOWLIST: envList({ case: "upper" })
    .default(["BTCUSDT"])
    .describe("Comma-separated symbols the layer may act on; others are SKIP not_in_allowlist"),
  SYMBOLS: envList({ case: "upper", nonEmpty: true })
    .optional()
    .describe("Proposal hashes quantum:harvest:proposal:<SYMBOL> to poll (default: APPLY_ALLOWLIST)"),
  APPLY_POLL_SEC: envNumber({ min: 0.05, max: 3600 })
    .default(5)
    .describe(
      "Proposal hash poll interval in seconds (fractions allowed, e.g. 0.5); hash writes wake the layer at once when Redis publishes keyspace events for hashes (notify-keyspace-events K with h or A), polling is the fallback",
    ),
  APPLY_MAX_QUEUED_PLANS: envInt({ min: 1 })
    .default(1000)
    .describe(
      "Most plans queued or running in the process; past it proposals stay on the stream (unread) or in their hash until a slot frees, none is dropped",
    ),
  APPLY_DEDUPE_TTL_SEC: envInt({ min: 1 })
    .default(21_600)
    .describe("How long a published plan_id (plan and result markers) is remembered, seconds"),
  APPLY_EXEC_RECORD_TTL_SEC: envInt({ min: 1 })
    .default(604_800)
    .describe("TTL of execution records quantum:apply:exec:<plan_id>, seconds (>= APPLY_DEDUPE_TTL_SEC)"),
  K_BLOCK_CRITICAL: envNumber({ min: 0 })
    .default(0.8)
    .describe("kill_score >= this: BLOCKED kill_score_critical"),
  K_BLOCK_WARNING: envNumber({ min: 0 })
    .default(0.6)
    .describe(
      "kill_score >= this: closes still execute, anything else BLOCKED kill_score_warning_risk_increase",
    ),
  APPLY_KILL_SWITCH: envBool()
    .default(false)
    .describe("Static kill switch: true blocks every plan at planning time (BLOCKED kill_switch_active)"),
  APPLY_LOG_LEVEL: envLogLevel()
    .default("info")
    .describe("trace|debug|info|warn|error|fatal|silent, any case (WARNING/CRITICAL accepted)"),
  PROMETHEUS_PORT: envPort()
    .default(8000)
    .describe("Port of /metrics, /health and /ready (APPLY_METRICS_PORT accepted)"),
  BINANCE_TESTNET_API_KEY: envString()
    .optional()
    .describe("Binance USD-M testnet API key (APPLY_MODE=testnet)"),
  BINANCE_TESTNET_API_SECRET: envString()
    .optional()
    .describe("Binance USD-M testnet API secret (APPLY_MODE=testnet)"),
  BINANCE_API_KEY: envString().optional().describe("Binance USD-M API key (APPLY_MODE=production)"),
  BINANCE_API_SECRET: envString().optional().describe("Binance USD-M API secret (APPLY_MODE=production)"),
  BINANCE_BASE_URL: envString()
    .optional()
    .describe(
      "REST base URL override; the host must match the mode (testnet hosts / fapi.binance.com; loopback only with APPLY_ALLOW_LOOPBACK_EXCHANGE=true)",
    ),
  APPLY_ALLOW_LOOPBACK_EXCHANGE: envBool()
    .default(false)
    .describe(
      "Accept a loopback BINANCE_BASE_URL (test rigs with a fake exchange only; refused with APPLY_MODE=production)",
    ),
  EXCHANGE_RATE_LIMIT_SHARE_PCT: envInt({ min: 1, max: 100 })
    .default(90)
    .describe(
      "Percent of the account's venue limits (orders per 10 s and per minute, request weight per minute) this process may use; the rest is left to P3.3 on the same account",
    ),
  APPLY_CONSUMER_NAME: envString()
    .optional()
    .describe("Stable consumer name in the `apply` group and lock owner (default <hostname>-apply-layer)"),
  APPLY_RECOVERY_INTERVAL_SEC: envNumber({ min: 0.1, max: 3600 })
    .default(15)
    .describe(
      "How often execution records and open plans left by dead instances are looked for, seconds (fractions allowed)",
    ),
  APPLY_RATE_LIMIT_MAX_WAIT_MS: envInt({ min: 0, max: 600_000 })
    .default(30_000)
    .describe(
      "Longest total wait (ms) of an order whose permits are consumed when the venue rate-limits it (429/418/-1015): it waits Retry-After, passes the kill-switch gate again and is sent; past this bound it ends BLOCKED exchange_rate_limited",
    ),
  APPLY_STREAM_MAXLEN: envInt({ min: 100 })
    .default(10_000)
    .describe("Approximate MAXLEN of every XADD to apply.plan / apply.result"),
  APPLY_TEST_CRASH_AT: envEnum(CRASH_POINTS)
    .optional()
    .describe(
      "TEST ONLY: SIGKILL the process at after_claim|after_submitting|after_fill|before_result; refused with APPLY_MODE=production",
    ),
  APPLY_TEST_ORDER_LIMIT: envOrderLimit()
    .optional()
    .describe(
      "TEST ONLY: <orders>/<ms> replaces the venue's 300 orders / 10 s the throttle keeps to (a fake venue with scaled-down limits); refused with APPLY_MODE=production",
    ),
  ...redisConfigShape,
};

export const applyEnvSchema = z.object(applyEnvShape).superRefine((env, ctx) => {
  const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
  if (env.APPLY_MODE === "production" && env.TESTNET) {
    issue(
      "TESTNET",
      "TESTNET=true is refused with APPLY_MODE=production (the permit bypass never runs in production)",
    );
  }
  if (env.APPLY_MODE === "production" && env.APPLY_ALLOW_LOOPBACK_EXCHANGE) {
    issue(
      "APPLY_ALLOW_LOOPBACK_EXCHANGE",
      "APPLY_ALLOW_LOOPBACK_EXCHANGE=true is refused with APPLY_MODE=production (production keys are never signed for a loopback host)",
    );
  }
  if (env.APPLY_MODE === "production" && env.APPLY_TEST_CRASH_AT !== undefined) {
    issue("APPLY_TEST_CRASH_AT", "the test crash hook is refused with APPLY_MODE=production");
  }
  if (env.APPLY_MODE === "production" && env.APPLY_TEST_ORDER_LIMIT !== undefined) {
    issue(
      "APPLY_TEST_ORDER_LIMIT",
      "the test order limit is refused with APPLY_MODE=production (production keeps the venue's published limits)",
    );
  }
  if (env.K_BLOCK_WARNING > env.K_BLOCK_CRITICAL) {
    issue("K_BLOCK_WARNING", `must be <= K_BLOCK_CRITICAL (${env.K_BLOCK_CRITICAL})`);
  }
  if (env.APPLY_EXEC_RECORD_TTL_SEC < env.APPLY_DEDUPE_TTL_SEC) {
    issue("APPLY_EXEC_RECORD_TTL_SEC", `must be >= APPLY_DEDUPE_TTL_SEC (${env.APPLY_DEDUPE_TTL_SEC})`);
  }
  const [keyVar, secretVar] = credentialVars(env.APPLY_MODE);
  if (keyVar !== null && (env[keyVar] === undefined || env[secretVar] === undefined)) {
    issue(
      keyVar,
      `missing_credentials: APPLY_MODE=${env.APPLY_MODE} needs ${keyVar} and ${secretVar}; refusing to start`,
    );
  }
});

export type ApplyEnv = z.output<typeof applyEnvSchema>;

function credentialVars(
  mode: ApplyMode,
):
  | [null, null]
  | ["BINANCE_TESTNET_API_KEY", "BINANCE_TESTNET_API_SECRET"]
  | ["BINANCE_API_KEY", "BINANCE_API_SECRET"] {
  if (mode === "testnet") return ["BINANCE_TESTNET_API_KEY", "BINANCE_TESTNET_API_SECRET"];
  if (mode === "production") return ["BINANCE_API_KEY", "BINANCE_API_SECRET"];
  return [null, null];
}

/** The validated configuration the service runs with. */
export interface ApplyConfig {
  readonly mode: ApplyMode;
  /** TESTNET=true: permit bypass (never in production). */
  readonly testnetBypass: boolean;
  /** Where orders go; null in dry_run (nothing is sent). */
  readonly venue: ExchangeVenue | null;
  readonly permitWaitMs: number;
  readonly permitStepMs: number;
  readonly allowlist: ReadonlySet<string>;
  readonly symbols: readonly string[];
  readonly pollMs: number;
  readonly maxQueuedPlans: number;
  readonly dedupeTtlSec: number;
  readonly execRecordTtlSec: number;
  readonly kBlockCritical: number;
  readonly kBlockWarning: number;
  readonly envKillSwitch: boolean;
  readonly logLevel: LogLevel;
  readonly metricsPort: number;
  readonly metricsHost: string;
  readonly credentials: { readonly apiKey: string; readonly apiSecret: string } | null;
  readonly baseUrl: string | undefined;
  readonly allowLoopbackExchange: boolean;
  /** Percent of the account's venue rate limits this process may use. */
  readonly rateLimitSharePct: number;
  readonly consumerName: string | undefined;
  readonly streamMaxLen: number;
  readonly rateLimitMaxWaitMs: number;
  readonly recoveryIntervalMs: number;
  readonly testCrashAt: CrashPoint | null;
  /** Test rigs only: the short order limit of a scaled-down fake venue (null: the venue's published one). */
  readonly testOrderLimit: TestOrderLimit | null;
  readonly redis: RedisConnectionConfig;
}

const VENUES: Record<ApplyMode, ExchangeVenue | null> = {
  dry_run: null,
  paper: "paper",
  testnet: "testnet",
  production: "production",
};

export function toApplyConfig(env: ApplyEnv): ApplyConfig {
  const [keyVar, secretVar] = credentialVars(env.APPLY_MODE);
  const apiKey = keyVar === null ? undefined : env[keyVar];
  const apiSecret = secretVar === null ? undefined : env[secretVar];
  return {
    mode: env.APPLY_MODE,
    testnetBypass: env.TESTNET,
    venue: VENUES[env.APPLY_MODE],
    permitWaitMs: env.APPLY_PERMIT_WAIT_MS,
    permitStepMs: env.APPLY_PERMIT_STEP_MS,
    allowlist: new Set(env.APPLY_ALLOWLIST),
    symbols: [...new Set(env.SYMBOLS ?? env.APPLY_ALLOWLIST)],
    pollMs: Math.round(env.APPLY_POLL_SEC * 1000),
    maxQueuedPlans: env.APPLY_MAX_QUEUED_PLANS,
    dedupeTtlSec: env.APPLY_DEDUPE_TTL_SEC,
    execRecordTtlSec: env.APPLY_EXEC_RECORD_TTL_SEC,
    kBlockCritical: env.K_BLOCK_CRITICAL,
    kBlockWarning: env.K_BLOCK_WARNING,
    envKillSwitch: env.APPLY_KILL_SWITCH,
    logLevel: env.APPLY_LOG_LEVEL,
    metricsPort: env.PROMETHEUS_PORT,
    metricsHost: env.METRICS_HOST,
    credentials: apiKey !== undefined && apiSecret !== undefined ? { apiKey, apiSecret } : null,
    baseUrl: env.BINANCE_BASE_URL,
    allowLoopbackExchange: env.APPLY_ALLOW_LOOPBACK_EXCHANGE,
    rateLimitSharePct: env.EXCHANGE_RATE_LIMIT_SHARE_PCT,
    consumerName: env.APPLY_CONSUMER_NAME,
    streamMaxLen: env.APPLY_STREAM_MAXLEN,
    rateLimitMaxWaitMs: env.APPLY_RATE_LIMIT_MAX_WAIT_MS,
    recoveryIntervalMs: Math.round(env.APPLY_RECOVERY_INTERVAL_SEC * 1000),
    // Belt and braces: the schema already refuses the hook in production.
    testCrashAt: env.APPLY_MODE === "production" ? null : (env.APPLY_TEST_CRASH_AT ?? null),
    testOrderLimit: env.APPLY_MODE === "production" ? null : (env.APPLY_TEST_ORDER_LIMIT ?? null),
    redis: env,
  };
}

/** Validate the environment once (all problems reported together); throws ConfigError. */
export function loadApplyConfig(opts: LoadConfigOptions = {}): ApplyConfig {
  return toApplyConfig(loadConfig(applyEnvSchema, { ...opts, aliases: APPLY_ENV_ALIASES }));
}

/** The secrets the logger must scrub. */
export function configSecrets(cfg: ApplyConfig): string[] {
  const out: string[] = [];
  if (cfg.credentials !== null) out.push(cfg.credentials.apiKey, cfg.credentials.apiSecret);
  if (cfg.redis.REDIS_PASSWORD !== undefined) out.push(cfg.redis.REDIS_PASSWORD);
  return out;
}

/** For scripts/gen-config-reference.mjs (docs/config-reference.md is generated from these). */
export { APPLY_ENV_ALIASES as configAliases, applyEnvSchema as configSchema };
