export { BINANCE_USDM_RATE_LIMITS, type FakeRateLimit, type FakeRateLimits } from "./rate-limits.js";
export { DEFAULT_FAKE_SYMBOLS, startFakeBinance } from "./server.js";
export type {
  FakeBinance,
  FakeBinanceOptions,
  FakeDelayRange,
  FakeFault,
  FakeFaultKind,
  FakeFaultSpec,
  FakeOrder,
  FakeOrderCounts,
  FakePosition,
  FakePositionSeed,
  FakePositionSide,
  FakeRequestRecord,
  FakeSymbolSpec,
} from "./types.js";
