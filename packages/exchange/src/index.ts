export {
  BINANCE_ENDPOINT_COSTS,
  BINANCE_LIMIT_HEADERS,
  BINANCE_USDM_LIMITS,
  type BinanceEndpoint,
  type BinanceLimitName,
} from "./binance-rate-limits.js";
export type { BinanceUsdmExchangeOptions } from "./binance-usdm-options.js";
export {
  classifyError,
  DEFAULT_RETRY_AFTER_MS,
  FATAL_CODES,
  parseRetryAfter,
  RATE_LIMIT_CODES,
  redact,
  UNKNOWN_CODES,
} from "./classify.js";
export {
  CLIENT_ORDER_ID_PATTERN,
  type ClientOrderPurpose,
  clientOrderIdFor,
  isConditionalClientOrderId,
  isValidClientOrderId,
} from "./client-order-id.js";
export { type CreateExchangeOptions, createExchange } from "./create-exchange.js";
export { ExchangeConfigError, type ExchangeConfigErrorCode } from "./errors/exchange-config-error.js";
export { describeFailure, ExchangeRequestError } from "./errors/exchange-request-error.js";
export { InvalidOrderError } from "./errors/invalid-order-error.js";
export { MalformedResponseError } from "./errors/malformed-response-error.js";
export {
  DEFAULT_BASE_URLS,
  type LiveVenue,
  LOOPBACK_HOSTS,
  resolveBaseUrl,
  VENUE_HOSTS,
} from "./host-allowlist.js";
export {
  PaperExchange,
  type PaperExchangeOptions,
  seedPaperPosition,
  setPaperMarkPrice,
} from "./paper-exchange.js";
export { DEFAULT_PAPER_RULES } from "./paper-rules.js";
export {
  floorToStep,
  formatToStep,
  type QuantityRejectReason,
  type RoundedQuantity,
  type RoundQuantityOptions,
  roundOrderQuantity,
  stepDecimals,
} from "./quantity.js";
export { type RateLimitSpec, RateWindow, type RateWindowState } from "./rate-window.js";
export { EXCHANGE_SCRIPTS } from "./scripts.js";
export {
  type CancelResult,
  type Exchange,
  type ExchangeFailure,
  type ExchangeObserver,
  type ExchangePosition,
  type ExchangeVenue,
  type FatalOutcome,
  type NotSentOutcome,
  type ObservedOutcome,
  type OrderInfo,
  type OrderLookupOptions,
  type OrderOutcome,
  type OrderQueryResult,
  type OrderRequest,
  type OrderSide,
  type OrderType,
  observedOutcome,
  type PlacedOutcome,
  type PositionMode,
  type PositionSide,
  type RateLimitedOutcome,
  type RejectedOutcome,
  type SendOptions,
  type SymbolRules,
  type UnknownOutcome,
} from "./types.js";
export {
  type AcquireOptions,
  type RequestCost,
  type ThrottleGrant,
  type ThrottleRefusal,
  type VenueLimits,
  VenueThrottle,
  type VenueThrottleOptions,
  type VenueThrottleState,
} from "./venue-throttle.js";
