import { headerValue } from "./classify.js";
import type { RequestCost, VenueLimits } from "./venue-throttle.js";

/** The three limits of Binance USDⓈ-M REST, each with the response header that reports the venue's count. */
export type BinanceLimitName = "weight1m" | "orders10s" | "orders1m";

/**
 * Binance USDⓈ-M published limits (developers.binance.com, USDⓈ-M Futures → General Info → Limits):
 * request weight 2,400 per minute per IP; orders 300 per 10 seconds and 1,200 per minute per account.
 */
export const BINANCE_USDM_LIMITS: VenueLimits<BinanceLimitName> = {
  weight1m: { limit: 2400, intervalMs: 60_000 },
  orders10s: { limit: 300, intervalMs: 10_000 },
  orders1m: { limit: 1200, intervalMs: 60_000 },
};

/** Header that reports the venue's count of each limit (lower case, as axios hands them over). */
export const BINANCE_LIMIT_HEADERS: Readonly<Record<BinanceLimitName, string>> = {
  weight1m: "x-mbx-used-weight-1m",
  orders10s: "x-mbx-order-count-10s",
  orders1m: "x-mbx-order-count-1m",
};

/** The venue's counts reported in a response's headers (only those present and numeric). */
export function binanceLimitCounts(headers: unknown): Partial<Record<BinanceLimitName, number>> {
  const out: Partial<Record<BinanceLimitName, number>> = {};
  for (const [name, header] of Object.entries(BINANCE_LIMIT_HEADERS) as [BinanceLimitName, string][]) {
    const v = headerValue(headers, header);
    const n = v === null ? Number.NaN : Number.parseInt(v, 10);
    if (Number.isInteger(n) && n >= 0) out[name] = n;
  }
  return out;
}

const order: RequestCost<BinanceLimitName> = { weight1m: 0, orders10s: 1, orders1m: 1 };

/**
 * What each call of the adapter costs, from the "Request Weight" line of each endpoint's page: new orders
 * (regular and conditional) weigh 0 on the IP limit and 1 on both order limits; positionRisk 5;
 * positionSide/dual 30; order queries and cancels, exchangeInfo and time 1.
 */
export const BINANCE_ENDPOINT_COSTS = {
  server_time: { weight1m: 1 },
  exchange_info: { weight1m: 1 },
  positions: { weight1m: 5 },
  position_mode: { weight1m: 30 },
  new_order: order,
  query_order: { weight1m: 1 },
  cancel_order: { weight1m: 1 },
  new_algo_order: order,
  query_algo_order: { weight1m: 1 },
  cancel_algo_order: { weight1m: 1 },
} as const satisfies Record<string, RequestCost<BinanceLimitName>>;

export type BinanceEndpoint = keyof typeof BINANCE_ENDPOINT_COSTS;
