import type { ExchangeVenue } from "@quantum/contracts";
import type { Redis } from "ioredis";
import type { BinanceLimitName } from "./binance-rate-limits.js";
import { ExchangeConfigError } from "./errors/exchange-config-error.js";
import { PaperExchange } from "./paper-exchange.js";
import type { Exchange, ExchangeObserver, SymbolRules } from "./types.js";
import type { VenueLimits } from "./venue-throttle.js";

export interface CreateExchangeOptions {
  /** paper: the Redis client holding the paper state (required). */
  redis?: Redis;
  /** paper: extra / replacement symbol rules. */
  paperRules?: readonly SymbolRules[];
  /** paper: approximate MAXLEN of quantum:paper:orders. */
  streamMaxLen?: number;
  /** testnet / production credentials (required there). */
  apiKey?: string;
  apiSecret?: string;
  /** testnet / production: base URL override, checked against the venue's host allowlist. */
  baseUrl?: string;
  allowLoopback?: boolean;
  timeoutMs?: number;
  recvWindowMs?: number;
  exchangeInfoTtlMs?: number;
  /** testnet / production: percentage of the account's rate limits this process may use. */
  rateLimitSharePct?: number;
  /** testnet / production: longest wait for the rate limits before a call gives up unsent (ms). */
  rateLimitMaxWaitMs?: number;
  /** testnet / production: the venue's limits (default Binance USDⓈ-M's published ones; test rigs scale them). */
  rateLimits?: VenueLimits<BinanceLimitName>;
  observer?: ExchangeObserver;
}

/**
 * The Exchange of a venue: PaperExchange on Redis, or BinanceUsdmExchange for testnet / production. The
 * Binance adapter (and its HTTP stack) is loaded only for those venues, so paper services stay small.
 */
export async function createExchange(
  venue: ExchangeVenue,
  opts: CreateExchangeOptions = {},
): Promise<Exchange> {
  const observer = opts.observer !== undefined ? { observer: opts.observer } : {};
  if (venue === "paper") {
    if (opts.redis === undefined) {
      throw new ExchangeConfigError("EXCHANGE_MISSING_REDIS", "the paper exchange needs a Redis client");
    }
    return new PaperExchange({
      redis: opts.redis,
      ...(opts.paperRules !== undefined ? { rules: opts.paperRules } : {}),
      ...(opts.streamMaxLen !== undefined ? { streamMaxLen: opts.streamMaxLen } : {}),
      ...observer,
    });
  }
  if (venue !== "testnet" && venue !== "production") {
    throw new ExchangeConfigError("EXCHANGE_OPTION_INVALID", `unknown exchange venue ${String(venue)}`);
  }
  if (opts.apiKey === undefined || opts.apiSecret === undefined) {
    throw new ExchangeConfigError(
      "EXCHANGE_MISSING_CREDENTIALS",
      `${venue} exchange needs an API key and secret`,
    );
  }
  const { BinanceUsdmExchange } = await import("./binance-usdm.js");
  return new BinanceUsdmExchange({
    venue,
    apiKey: opts.apiKey,
    apiSecret: opts.apiSecret,
    ...(opts.baseUrl !== undefined ? { baseUrl: opts.baseUrl } : {}),
    ...(opts.allowLoopback !== undefined ? { allowLoopback: opts.allowLoopback } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.recvWindowMs !== undefined ? { recvWindowMs: opts.recvWindowMs } : {}),
    ...(opts.exchangeInfoTtlMs !== undefined ? { exchangeInfoTtlMs: opts.exchangeInfoTtlMs } : {}),
    ...(opts.rateLimitSharePct !== undefined ? { rateLimitSharePct: opts.rateLimitSharePct } : {}),
    ...(opts.rateLimitMaxWaitMs !== undefined ? { rateLimitMaxWaitMs: opts.rateLimitMaxWaitMs } : {}),
    ...(opts.rateLimits !== undefined ? { rateLimits: opts.rateLimits } : {}),
    ...observer,
  });
}
