import type { ExchangeVenue } from "@quantum/contracts";

export type { ExchangeVenue };

export type OrderSide = "BUY" | "SELL";
export type OrderType = "MARKET" | "STOP_MARKET";
export type PositionSide = "BOTH" | "LONG" | "SHORT";
export type PositionMode = "one_way" | "hedge";

/** One position as the exchange reports it. Every number is a decimal string. */
export interface ExchangePosition {
  symbol: string;
  /** Signed: positive long, negative short. */
  positionAmt: string;
  entryPrice: string;
  markPrice: string;
  unrealizedPnl: string;
  leverage: string;
  positionSide: PositionSide;
}

/** Trading rules of a symbol (quantity rules from MARKET_LOT_SIZE, or LOT_SIZE where that has step 0). */
export interface SymbolRules {
  symbol: string;
  stepSize: string;
  minQty: string;
  maxQty: string;
  tickSize: string;
  minNotional: string;
  /** Contract status, e.g. TRADING. */
  status: string;
}

export interface OrderRequest {
  symbol: string;
  side: OrderSide;
  /** MARKET goes to /fapi/v1/order; STOP_MARKET is a conditional order (/fapi/v1/algoOrder on Binance). */
  type: OrderType;
  /** Decimal string already on the step (see roundOrderQuantity); omitted for closePosition stops. */
  quantity?: string;
  reduceOnly?: boolean;
  /** Hedge mode only (LONG|SHORT); one-way mode omits it (BOTH). */
  positionSide?: PositionSide;
  /** STOP_MARKET only: close the whole position when triggered. */
  closePosition?: boolean;
  /** STOP_MARKET trigger price (decimal string on the tick). */
  stopPrice?: string;
  /** Caller-given, deterministic (see clientOrderIdFor). */
  clientOrderId: string;
}

/** The exchange answered but did not accept the request (nothing happened). */
export interface RejectedOutcome {
  kind: "rejected";
  code: number;
  msg: string;
}
/** Rate limited (429/418/-1003/-1015): nothing happened; do not call again before retryAfterMs. */
export interface RateLimitedOutcome {
  kind: "rateLimited";
  retryAfterMs: number;
  code?: number;
}
/**
 * The request may or may not have been executed: timeout, 5xx, -1000/-1006/-1007, lost response, a 2xx
 * other than 200, a body that does not parse, an HTTP status without a Binance error code, a thrown value
 * of unknown shape. Resolve by looking the order up by client id; never resend blindly.
 */
export interface UnknownOutcome {
  kind: "unknown";
  detail: string;
}
/**
 * The request provably never left this process (connection refused, DNS failure, a request that could
 * not be built, clock sync failed, the local rate gate). Safe to retry.
 */
export interface NotSentOutcome {
  kind: "notSent";
  detail: string;
}
/** Configuration problem (bad key/signature/permissions, position-side mode): stop trading, alert. */
export interface FatalOutcome {
  kind: "fatal";
  code: number;
  msg: string;
}

export type ExchangeFailure =
  | RejectedOutcome
  | RateLimitedOutcome
  | UnknownOutcome
  | NotSentOutcome
  | FatalOutcome;

/** The order exists on the exchange: `filled` when status is FILLED, `accepted` otherwise (NEW, ...). */
export interface PlacedOutcome {
  kind: "filled" | "accepted";
  orderId: string;
  clientOrderId: string;
  status: string;
  executedQty: string;
  avgPrice: string;
}

export type OrderOutcome = PlacedOutcome | ExchangeFailure;

/** An order as the exchange reports it. */
export interface OrderInfo {
  orderId: string;
  clientOrderId: string;
  symbol: string;
  side: OrderSide;
  type: string;
  /** NEW | PARTIALLY_FILLED | FILLED | CANCELED | EXPIRED | ... (algo orders: NEW | TRIGGERED | FINISHED | ...). */
  status: string;
  origQty: string;
  executedQty: string;
  avgPrice: string;
  reduceOnly: boolean;
  closePosition: boolean;
  stopPrice: string;
  positionSide: PositionSide;
  updateTimeMs: number;
}

export type OrderQueryResult = { kind: "found"; order: OrderInfo } | { kind: "notFound" } | ExchangeFailure;
/** `notOpen`: no open order with this client id (never placed, or already filled/canceled/expired). */
export type CancelResult =
  | { kind: "canceled"; orderId: string; clientOrderId: string }
  | { kind: "notOpen" }
  | ExchangeFailure;

/** Bounds of the wait for the venue's rate limits before a request is sent (nothing is sent past them). */
export interface SendOptions {
  /** Longest wait (ms) for room under the limits or for a Retry-After; default: the exchange's. */
  maxWaitMs?: number;
  /** Abort the wait: the call comes back notSent. */
  signal?: AbortSignal;
}

/** Which order book a client id lives in: regular orders (MARKET) or conditional ones (STOP_MARKET). */
export interface OrderLookupOptions extends SendOptions {
  conditional?: boolean;
}

/** Label of `exchange_requests_total{outcome}`. */
export type ObservedOutcome = "ok" | "rejected" | "rate_limited" | "unknown" | "not_sent" | "fatal";

/** Injected metrics sink (packages/metrics createExchangeMetrics implements it structurally). */
export interface ExchangeObserver {
  request(endpoint: string, outcome: ObservedOutcome, seconds: number): void;
  rateLimitHeaders(usedWeight1m: number | null, orderCount1m: number | null): void;
  rateLimited(retryAfterMs: number): void;
}

/** An observer that records nothing (the default of both exchanges). */
export const NOOP_OBSERVER: ExchangeObserver = { request() {}, rateLimitHeaders() {}, rateLimited() {} };

/**
 * What the services use. Reads (positions, rules, mode, time) throw ExchangeRequestError carrying the
 * classified failure; order calls never throw for exchange problems and return a closed union instead.
 */
export interface Exchange {
  readonly venue: ExchangeVenue;
  /**
   * True when placeOrder never places a second MARKET order for a client id it has seen, open or not (it
   * returns the first one, checked atomically with the fill): a lookup by client id before sending adds
   * nothing then. Binance refuses a repeated id only while its order is open, so false there.
   */
  readonly placesClientIdOnce: boolean;
  /** All positions in one call. */
  getPositions(): Promise<ExchangePosition[]>;
  /** From a cached exchangeInfo (TTL); null when the exchange does not list the symbol. */
  getSymbolRules(symbol: string): Promise<SymbolRules | null>;
  placeOrder(order: OrderRequest, opts?: SendOptions): Promise<OrderOutcome>;
  getOrder(symbol: string, clientOrderId: string, opts?: OrderLookupOptions): Promise<OrderQueryResult>;
  cancelOrder(symbol: string, clientOrderId: string, opts?: OrderLookupOptions): Promise<CancelResult>;
  getPositionMode(): Promise<PositionMode>;
  /** Exchange clock, epoch ms. */
  serverTime(): Promise<number>;
}

/** The observed-outcome label of an order outcome or failure. */
export function observedOutcome(kind: OrderOutcome["kind"]): ObservedOutcome {
  switch (kind) {
    case "filled":
    case "accepted":
      return "ok";
    case "rejected":
      return "rejected";
    case "rateLimited":
      return "rate_limited";
    case "unknown":
      return "unknown";
    case "notSent":
      return "not_sent";
    case "fatal":
      return "fatal";
  }
}
