export { type EventuallyOptions, eventually } from "./eventually.js";
export {
  BINANCE_USDM_RATE_LIMITS,
  DEFAULT_FAKE_SYMBOLS,
  type FakeBinance,
  type FakeBinanceOptions,
  type FakeDelayRange,
  type FakeFault,
  type FakeFaultKind,
  type FakeFaultSpec,
  type FakeOrder,
  type FakeOrderCounts,
  type FakePosition,
  type FakePositionSeed,
  type FakePositionSide,
  type FakeRateLimit,
  type FakeRateLimits,
  type FakeRequestRecord,
  type FakeSymbolSpec,
  startFakeBinance,
} from "./fake-binance/index.js";
export {
  closeProposalAt,
  entriesForPlan,
  type Fields,
  readStream,
  streamProposal,
  toFields,
  writeProposalHash,
} from "./flow.js";
export { freePort } from "./ports.js";
export {
  hasMetric,
  httpGet,
  metricValue,
  type ServiceProcess,
  type ServiceProcessOptions,
  scrapeMetrics,
  startServiceProcess,
  waitHealthy,
  waitServiceReady,
} from "./process.js";
export { startTestRedis, type TestRedis, type TestRedisKind, type TestRedisOptions } from "./redis.js";
