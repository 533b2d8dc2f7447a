/** Public types of the FakeBinance test server. */

import type { FakeRateLimits } from "./rate-limits.js";

export interface FakeSymbolSpec {
  symbol: string;
  /** LOT_SIZE filter. */
  stepSize: string;
  minQty: string;
  maxQty: string;
  /** MARKET_LOT_SIZE filter (defaults to the LOT_SIZE values). */
  marketStepSize?: string;
  marketMinQty?: string;
  marketMaxQty?: string;
  /** PRICE_FILTER tickSize. */
  tickSize: string;
  /** MIN_NOTIONAL filter `notional`. */
  minNotional: string;
  /** Contract status, default TRADING. */
  status?: string;
}

export type FakePositionSide = "BOTH" | "LONG" | "SHORT";

export interface FakePositionSeed {
  symbol: string;
  /** Signed decimal string. */
  positionAmt: string;
  markPrice: string;
  /** Defaults to the mark price (or 0 for a flat position). */
  entryPrice?: string;
  leverage?: number;
  /** BOTH (one-way, default) or LONG/SHORT (hedge mode). */
  positionSide?: FakePositionSide;
}

export interface FakeBinanceOptions {
  apiKey: string;
  apiSecret: string;
  /** Symbols served by exchangeInfo; defaults to BTCUSDT, ETHUSDT, SOLUSDT, XRPUSDT. */
  symbols?: FakeSymbolSpec[];
  positions?: FakePositionSeed[];
  /** Server clock = local clock + skew (ms); lets tests provoke -1021 and the client's resync. */
  clockSkewMs?: number;
  /** Hedge mode (dualSidePosition) instead of one-way. */
  dualSidePosition?: boolean;
  /** The venue's limits (default: Binance USDⓈ-M's published ones); tests scale them down. */
  rateLimits?: Partial<FakeRateLimits>;
  /** Every answer is held back by a random time in this range after the request was processed. */
  replyDelayMs?: FakeDelayRange;
}

/** Inclusive range of a random delay in ms (min = max for a fixed delay). */
export interface FakeDelayRange {
  minMs: number;
  maxMs: number;
}

/** Order requests and fills the venue saw: totals, or for one client order id. */
export interface FakeOrderCounts {
  /** POSTs received on /fapi/v1/order and /fapi/v1/algoOrder (whatever their answer). */
  posts: number;
  /** MARKET orders filled. */
  fills: number;
}

export interface FakeOrder {
  orderId: number;
  clientOrderId: string;
  symbol: string;
  side: string;
  type: string;
  status: string;
  origQty: string;
  executedQty: string;
  avgPrice: string;
  cumQuote: string;
  reduceOnly: boolean;
  closePosition: boolean;
  positionSide: FakePositionSide;
  stopPrice: string;
  workingType: string;
  /** True for conditional orders placed through /fapi/v1/algoOrder. */
  algo: boolean;
  time: number;
  updateTime: number;
}

export interface FakePosition {
  symbol: string;
  positionSide: FakePositionSide;
  positionAmt: string;
  entryPrice: string;
  markPrice: string;
  leverage: number;
}

/** What the server does instead of (or after) answering normally. */
export type FakeFault =
  /** Answer with a Binance error body `{code,msg}` (HTTP 400 unless `status`). */
  | { kind: "reject"; code: number; msg: string; status?: number }
  /** Answer with a 5xx status and a non-JSON body. */
  | { kind: "serverError"; status?: number; body?: string }
  /** Never answer (the client's timeout fires). */
  | { kind: "hang" }
  /** 429 (default) or 418 with a Retry-After header (seconds) and a -1003 body. */
  | { kind: "rateLimit"; status?: 429 | 418; retryAfterSec?: number; code?: number }
  /** Process the request normally (an order is filled), then destroy the socket without answering. */
  | { kind: "dropAfterFill" }
  /** Process the request normally, then answer with this 2xx status (default 202) and the normal body. */
  | { kind: "statusAfterFill"; status?: number }
  /** Process the request normally, then answer 200 with a body that is not JSON. */
  | { kind: "garbledAfterFill"; body?: string }
  /** Wait `delayMs` before processing the request (a slow lookup or a slow venue), then answer normally. */
  | { kind: "slow"; delayMs: number };

export type FakeFaultKind = FakeFault["kind"];

/**
 * Which calls a fault applies to: method + path (e.g. "POST", "/fapi/v1/order"), the next `times` calls
 * (default 1); with `clientOrderId`, only calls about that order (newClientOrderId, clientAlgoId or
 * origClientOrderId), so a fault waits for the request that matters instead of the next one of its kind.
 */
export type FakeFaultSpec = {
  method: string;
  path: string;
  times?: number;
  clientOrderId?: string;
} & FakeFault;

export interface FakeRequestRecord {
  method: string;
  path: string;
  /** Decoded parameters (query string and body), without the signature. */
  params: Record<string, string>;
  /** HTTP status answered, or null when the request hung or the socket was dropped. */
  status: number | null;
  /** Binance error code answered, if any. */
  code: number | null;
  fault: FakeFaultKind | null;
  atMs: number;
}

export interface FakeBinance {
  /** http://127.0.0.1:<port> (no trailing slash). */
  readonly baseUrl: string;
  readonly port: number;
  close(): Promise<void>;
  /** Set (or create) a position; amt is a signed decimal string. */
  setPosition(
    symbol: string,
    positionAmt: string,
    markPrice: string,
    opts?: { entryPrice?: string; positionSide?: FakePositionSide; leverage?: number },
  ): void;
  position(symbol: string, positionSide?: FakePositionSide): FakePosition | null;
  /** Every order ever accepted (regular and algo), in creation order. */
  orders(): FakeOrder[];
  /**
   * Orders created with this client order id, oldest first. An id is refused (-4116) only while its
   * order is open, so a MARKET order re-sent after it filled appears here twice.
   */
  ordersFor(clientOrderId: string): FakeOrder[];
  /** POSTs received and fills made: totals, or for one client order id. */
  counts(clientOrderId?: string): FakeOrderCounts;
  /** Hold back every answer by a random time in this range after processing (null: answer at once). */
  setReplyDelay(range: FakeDelayRange | null): void;
  injectFault(spec: FakeFaultSpec): void;
  /**
   * Place an order on the account directly, as another client of the same account would (not in the request
   * log): e.g. an order an earlier incarnation sent before Redis lost its claim. Returns the venue's answer.
   */
  placeOrder(params: Record<string, string>): unknown;
  clearFaults(): void;
  requests(): FakeRequestRecord[];
  clearRequests(): void;
  setClockSkew(ms: number): void;
  setDualSidePosition(dual: boolean): void;
  /** Request weight counted in the current interval (what X-MBX-USED-WEIGHT-1M reports). */
  usedWeight1m(): number;
  /** Orders counted in the current long interval (what X-MBX-ORDER-COUNT-1M reports). */
  orderCount1m(): number;
  /** Orders counted in the current short interval (what X-MBX-ORDER-COUNT-10S reports). */
  orderCount10s(): number;
  /** Count usage by another process of the same IP / account in the current intervals. */
  addRateLimitUsage(usage: { weight?: number; orders?: number }): void;
  /** How many answers were 429 (limit exceeded) and 418 (IP banned), whatever the cause. */
  rateLimitRefusals(): { status429: number; status418: number };
  /** Forget the rate-limit counts, back-offs, bans and the refusal counters. */
  resetRateLimits(): void;
}
