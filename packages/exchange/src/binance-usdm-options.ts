import type { BinanceLimitName } from "./binance-rate-limits.js";
import type { LiveVenue } from "./host-allowlist.js";
import type { ExchangeObserver } from "./types.js";
import type { VenueLimits } from "./venue-throttle.js";

export interface BinanceUsdmExchangeOptions {
  venue: LiveVenue;
  apiKey: string;
  apiSecret: string;
  /** Override of the venue's default URL; its host must be on the venue's allowlist. */
  baseUrl?: string;
  /** Accept 127.0.0.1 / localhost / ::1 (tests, FakeBinance). Default false. */
  allowLoopback?: boolean;
  /** Per-request timeout (the library's default is 5 minutes). Default 5000. */
  timeoutMs?: number;
  /** recvWindow of signed requests. Default 5000. */
  recvWindowMs?: number;
  /** exchangeInfo cache TTL. Default 10 min. */
  exchangeInfoTtlMs?: number;
  /** Resync the clock offset (GET /fapi/v1/time) at least this often. Default 15 min. */
  clockSyncIntervalMs?: number;
  observer?: ExchangeObserver;
  /** Percentage of the account's limits this process may use (the rest is other processes'). Default 100. */
  rateLimitSharePct?: number;
  /**
   * Longest wait for the rate limits (pacing or a Retry-After) before a call gives up unsent, unless the call
   * names its own (SendOptions). Default 1000: short pacing waits happen inside the call; a longer one comes
   * back rateLimited at once, so the caller re-checks its own gates (kill switch) before trying again.
   */
  rateLimitMaxWaitMs?: number;
  /** The venue's limits; default Binance USDⓈ-M's published ones (tests scale them down). */
  rateLimits?: VenueLimits<BinanceLimitName>;
}
