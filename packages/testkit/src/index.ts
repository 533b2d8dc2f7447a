export { type EventuallyOptions, eventually } from "./eventually.js";
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
} from "./process.js";
export { startTestRedis, type TestRedis, type TestRedisKind, type TestRedisOptions } from "./redis.js";
