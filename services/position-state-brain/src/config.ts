import { SYMBOL_RE } from "@quantum/contracts";
import {
  BINANCE_ENDPOINT_COSTS,
  BINANCE_USDM_LIMITS,
  ExchangeConfigError,
  resolveBaseUrl,
} from "@quantum/exchange";
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
  redisConfigShape,
} from "@quantum/runtime";
import { z } from "zod";

export const SERVICE_NAME = "position-state-brain";

/** Alias and shared names accepted for P3.3 variables (the P33_ name wins when both are set). */
export const P33_ENV_ALIASES: EnvAliases = {
  P33_ALLOWLIST: ["APPLY_ALLOWLIST"],
  P33_LOG_LEVEL: ["LOG_LEVEL"],
};

/** The P3.3 environment. Docs are generated from the `.describe()` texts. */
export const p33ConfigSchema = z.object({
  P33_POLL_SEC: envNumber({ min: 0.05, max: 3600 })
    .default(5)
    .describe(
      "Seconds between exchange position snapshots (one positions call per cycle); fractions allowed",
    ),
  P33_STALE_THRESHOLD_SEC: envNumber({ min: 0.1 })
    .default(10)
    .describe("A snapshot older than this many seconds denies plans with stale_exchange_state"),
  P33_COOLDOWN_SEC: envNumber({ min: 0 })
    .default(15)
    .describe(
      "Seconds after the last fill of a symbol during which plans are denied with cooldown_in_flight",
    ),
  P33_QTY_TOLERANCE_PCT: envNumber({ min: 0, max: 100 })
    .default(1.0)
    .describe(
      "Allowed ledger/exchange difference in percent of the exchange position (at least one step) before reconcile_required_qty_mismatch",
    ),
  P33_PERMIT_TTL: envInt({ min: 1, max: 86_400 })
    .default(60)
    .describe("TTL in seconds of each quantum:permit:p33:<plan_id> key"),
  P33_METRICS_PORT: envPort()
    .default(8045)
    .describe("Port of the /metrics /health /ready server (bound to METRICS_HOST)"),
  P33_ALLOWLIST: envList({ case: "upper", nonEmpty: true })
    .refine((list) => list.every((s) => SYMBOL_RE.test(s)), "every item must be a symbol like BTCUSDT")
    .default(["BTCUSDT"])
    .describe(
      "Comma-separated symbols P3.3 tracks and may allow; plans for other symbols are denied not_in_allowlist (APPLY_ALLOWLIST accepted)",
    ),
  P33_EXCHANGE: envEnum(["paper", "testnet", "production"])
    .default("paper")
    .describe(
      "Venue the positions come from: paper (Redis paper exchange, no credentials) | testnet | production",
    ),
  BINANCE_TESTNET_API_KEY: envString()
    .optional()
    .describe("Binance Futures testnet API key (P33_EXCHANGE=testnet)"),
  BINANCE_TESTNET_API_SECRET: envString()
    .optional()
    .describe("Binance Futures testnet API secret (P33_EXCHANGE=testnet)"),
  BINANCE_API_KEY: envString()
    .optional()
    .describe("Binance USDⓈ-M Futures API key (P33_EXCHANGE=production)"),
  BINANCE_API_SECRET: envString()
    .optional()
    .describe("Binance USDⓈ-M Futures API secret (P33_EXCHANGE=production)"),
  BINANCE_BASE_URL: envString()
    .optional()
    .describe("Exchange REST base URL override; the host must be on the venue's allowlist"),
  APPLY_ALLOW_LOOPBACK_EXCHANGE: envBool()
    .default(false)
    .describe(
      "Allow a loopback BINANCE_BASE_URL (test exchanges only; refused with P33_EXCHANGE=production)",
    ),
  EXCHANGE_RATE_LIMIT_SHARE_PCT: envInt({ min: 1, max: 100 })
    .default(10)
    .describe(
      "Percent of the account's venue limits (request weight per minute, mostly the positions call) this process may use; the rest is left to the Apply Layer on the same account",
    ),
  P33_CONSUMER_NAME: envString()
    .optional()
    .describe(
      "Stable consumer name in the p33 and p33_ledger groups (default <hostname>-position-state-brain)",
    ),
  P33_CLAIM_IDLE_MS: envInt({ min: 100 })
    .default(10_000)
    .describe("Pending entries idle longer than this (ms) are claimed from dead consumers by the janitor"),
  P33_LOG_LEVEL: envLogLevel().default("info").describe("Log level, any case (LOG_LEVEL accepted)"),
  ...redisConfigShape,
});

export type P33Config = z.output<typeof p33ConfigSchema>;
export type P33Venue = P33Config["P33_EXCHANGE"];

export interface VenueCredentials {
  apiKey?: string;
  apiSecret?: string;
}

/** The credentials of the configured venue (none for paper). */
export function venueCredentials(cfg: P33Config): VenueCredentials {
  if (cfg.P33_EXCHANGE === "testnet") {
    return { apiKey: cfg.BINANCE_TESTNET_API_KEY, apiSecret: cfg.BINANCE_TESTNET_API_SECRET };
  }
  if (cfg.P33_EXCHANGE === "production") {
    return { apiKey: cfg.BINANCE_API_KEY, apiSecret: cfg.BINANCE_API_SECRET };
  }
  return {};
}

/**
 * Problems that stop the service before it connects anywhere, as one line: the loopback flag with the
 * production venue, missing credentials of a live venue, a base URL the venue may not use, or a poll interval
 * whose positions calls need more request weight than the process's share of the venue's limit. null when
 * the venue is usable.
 */
export function venueProblem(cfg: P33Config): string | null {
  const venue = cfg.P33_EXCHANGE;
  if (venue === "paper") return null;
  if (venue === "production" && cfg.APPLY_ALLOW_LOOPBACK_EXCHANGE) {
    return "APPLY_ALLOW_LOOPBACK_EXCHANGE=true is refused with P33_EXCHANGE=production (production keys are never signed for a loopback host)";
  }
  const [keyVar, secretVar] =
    venue === "testnet"
      ? ["BINANCE_TESTNET_API_KEY", "BINANCE_TESTNET_API_SECRET"]
      : ["BINANCE_API_KEY", "BINANCE_API_SECRET"];
  const creds = venueCredentials(cfg);
  const missing = [
    ...(creds.apiKey === undefined ? [keyVar] : []),
    ...(creds.apiSecret === undefined ? [secretVar] : []),
  ];
  if (missing.length > 0) {
    return `P33_EXCHANGE=${venue} needs exchange credentials: ${missing.join(" and ")} not set`;
  }
  try {
    resolveBaseUrl(venue, cfg.BINANCE_BASE_URL, cfg.APPLY_ALLOW_LOOPBACK_EXCHANGE);
  } catch (err) {
    if (err instanceof ExchangeConfigError) return `P33_EXCHANGE=${venue}: ${err.message}`;
    throw err;
  }
  const weight = BINANCE_USDM_LIMITS.weight1m;
  const perMinute = Math.ceil(
    (weight.intervalMs / 1000 / cfg.P33_POLL_SEC) * BINANCE_ENDPOINT_COSTS.positions.weight1m,
  );
  const share = Math.floor((weight.limit * cfg.EXCHANGE_RATE_LIMIT_SHARE_PCT) / 100);
  if (perMinute > share) {
    return `P33_POLL_SEC=${cfg.P33_POLL_SEC} needs ${perMinute} request weight per minute for the positions calls, EXCHANGE_RATE_LIMIT_SHARE_PCT=${cfg.EXCHANGE_RATE_LIMIT_SHARE_PCT} gives ${share} of the venue's ${weight.limit}: raise the share or the interval`;
  }
  return null;
}
export { P33_ENV_ALIASES as configAliases, p33ConfigSchema as configSchema };
