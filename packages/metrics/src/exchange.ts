import type { Registry } from "prom-client";
import { defineCounter, defineGauge, defineHistogram } from "./define.js";

/** Outcome of one exchange request (the closed union of packages/exchange). */
export const EXCHANGE_OUTCOMES = ["ok", "rejected", "rate_limited", "unknown", "not_sent", "fatal"] as const;
export type ExchangeOutcome = (typeof EXCHANGE_OUTCOMES)[number];

/** Buckets of one REST request: 10 ms .. 10 s. */
export const EXCHANGE_REQUEST_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/**
 * Structurally identical to `ExchangeObserver` of packages/exchange: pass the result of
 * `createExchangeMetrics` wherever an observer is expected.
 */
export interface ExchangeMetrics {
  request(endpoint: string, outcome: ExchangeOutcome, seconds: number): void;
  rateLimitHeaders(usedWeight1m: number | null, orderCount1m: number | null): void;
  rateLimited(retryAfterMs: number): void;
}

export function createExchangeMetrics(registry: Registry, venue: string): ExchangeMetrics {
  const requests = defineCounter(
    registry,
    "exchange_requests_total",
    "Exchange REST requests by endpoint and outcome (ok, rejected, rate_limited, unknown, not_sent, fatal).",
    ["venue", "endpoint", "outcome"],
  );
  const requestSeconds = defineHistogram(
    registry,
    "exchange_request_seconds",
    "Duration of exchange REST requests.",
    EXCHANGE_REQUEST_BUCKETS,
    ["venue", "endpoint"],
  );
  const rateLimitedTotal = defineCounter(
    registry,
    "exchange_rate_limited_total",
    "Exchange answers 429/418 (rate limited or IP banned).",
    ["venue"],
  );
  const usedWeight = defineGauge(
    registry,
    "exchange_used_weight_1m",
    "Request weight used in the current minute (X-MBX-USED-WEIGHT-1M).",
    ["venue"],
  );
  const orderCount = defineGauge(
    registry,
    "exchange_order_count_1m",
    "Orders placed in the current minute (X-MBX-ORDER-COUNT-1M).",
    ["venue"],
  );
  rateLimitedTotal.inc({ venue }, 0);
  return {
    request(endpoint, outcome, seconds) {
      requests.inc({ venue, endpoint, outcome });
      if (Number.isFinite(seconds) && seconds >= 0) requestSeconds.observe({ venue, endpoint }, seconds);
    },
    rateLimitHeaders(usedWeight1m, orderCount1m) {
      if (usedWeight1m !== null && Number.isFinite(usedWeight1m)) usedWeight.set({ venue }, usedWeight1m);
      if (orderCount1m !== null && Number.isFinite(orderCount1m)) orderCount.set({ venue }, orderCount1m);
    },
    rateLimited(_retryAfterMs) {
      rateLimitedTotal.inc({ venue });
    },
  };
}
