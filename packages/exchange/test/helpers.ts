import { BinanceUsdmExchange, type BinanceUsdmExchangeOptions } from "../src/binance.js";
import type { ExchangeObserver, ObservedOutcome } from "../src/index.js";

/** An ExchangeObserver that records every report (what packages/metrics would turn into metrics). */
export class RecordingObserver implements ExchangeObserver {
  readonly requests: { endpoint: string; outcome: ObservedOutcome; seconds: number }[] = [];
  readonly headers: { usedWeight1m: number | null; orderCount1m: number | null }[] = [];
  readonly rateLimits: number[] = [];

  request(endpoint: string, outcome: ObservedOutcome, seconds: number): void {
    this.requests.push({ endpoint, outcome, seconds });
  }

  rateLimitHeaders(usedWeight1m: number | null, orderCount1m: number | null): void {
    this.headers.push({ usedWeight1m, orderCount1m });
  }

  rateLimited(retryAfterMs: number): void {
    this.rateLimits.push(retryAfterMs);
  }

  outcomes(endpoint: string): ObservedOutcome[] {
    return this.requests.filter((r) => r.endpoint === endpoint).map((r) => r.outcome);
  }
}

export const API_KEY = "fakeApiKey0123456789abcdefABCDEF";
export const API_SECRET = "fakeApiSecret9876543210zyxwvuZYXWVU";

/** The Binance adapter pointed at a FakeBinance (loopback allowed), with the test credentials. */
export function fakeVenueAdapter(
  baseUrl: string,
  over: Partial<BinanceUsdmExchangeOptions> = {},
): BinanceUsdmExchange {
  return new BinanceUsdmExchange({
    venue: "production",
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    baseUrl,
    allowLoopback: true,
    ...over,
  });
}
