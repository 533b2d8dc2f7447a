export {
  type ApplyMetrics,
  createApplyMetrics,
  INTAKE_SOURCES,
  ORDER_LATENCY_BUCKETS,
  PERMIT_WAIT_BUCKETS,
  setTradingState,
} from "./apply.js";
export {
  createExchangeMetrics,
  EXCHANGE_OUTCOMES,
  EXCHANGE_REQUEST_BUCKETS,
  type ExchangeMetrics,
  type ExchangeOutcome,
} from "./exchange.js";
export { type HealthCheck, type HealthReport, healthReport } from "./health.js";
export { createP33Metrics, type P33Metrics, type P33MetricsOptions, PERMIT_LATENCY_BUCKETS } from "./p33.js";
export { BATCH_BUCKETS, createP35Metrics, P35_DECISION_LABELS, type P35Metrics } from "./p35.js";
export { createServiceRegistry, type ServiceIdentity } from "./registry.js";
export {
  type MetricsServer,
  type MetricsServerLogger,
  type MetricsServerOptions,
  type RouteHandler,
  type RouteResponse,
  startMetricsServer,
} from "./server.js";
export { createStreamMetrics, STREAM_OUTCOMES, type StreamMetrics, type StreamOutcome } from "./stream.js";
