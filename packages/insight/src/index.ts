export {
  lastMinutes,
  minuteLabel,
  parseSymbolReason,
  type SymbolReasonSums,
  sumSymbolReasons,
} from "./dashboard/buckets.js";
export {
  DASHBOARD_QUERIES,
  type DashboardAllResult,
  type DashboardOptions,
  type DashboardQuery,
  type DashboardResult,
  dashboard,
  dashboardCondition,
} from "./dashboard/dashboard.js";
export {
  DEFAULT_GATE_THRESHOLD_PCT,
  type GateRow,
  QUERY_A_TOP_REASONS,
  type QueryAResult,
  type QueryCResult,
  type QueryDResult,
  queryA,
  queryC,
  queryD,
  TOP_GATES,
} from "./dashboard/queries.js";
export {
  type GroupHealth,
  type P35StatusView,
  type QueryEResult,
  queryE,
  readGroupHealth,
  WATCHED_GROUPS,
} from "./dashboard/query-e.js";
export {
  type QueryBResult,
  queryB,
  readSymbolWindow,
  SYMBOL_TOP_GATES,
  type SymbolGateRow,
  type SymbolGates,
  type SymbolWindowCounts,
} from "./dashboard/symbol-windows.js";
export {
  byScoreThenName,
  DECISION_ORDER,
  decisionRows,
  type P35Freshness,
  pct,
  readP35Freshness,
  readWindow,
  SUCCESS_REASON,
  type WindowData,
} from "./dashboard/window.js";
export {
  DEFAULT_HEALTH_HOST,
  DEFAULT_HEALTH_TIMEOUT_MS,
  type HealthOptions,
  type HealthResult,
  health,
  probeHealth,
  probeServices,
  type ServiceHealth,
  selectServices,
} from "./health.js";
export {
  hashView,
  isoOf,
  type KeyView,
  numberField,
  readHashKeys,
  readStringKeys,
  stringView,
} from "./key-view.js";
export {
  type AlertRow,
  alertRow,
  type DeadLetterRow,
  deadLetterRow,
  epochSec,
  type ResultRow,
  readRecent,
  resultRow,
} from "./recent.js";
export {
  effectiveMode,
  KNOWN_SERVICES,
  type KnownService,
  type ModeResult,
  type ModeSource,
  parseApplyMode,
  type ResolvedMode,
  readServiceStatuses,
  type ServiceState,
  type ServiceStatusRow,
  STALE_AFTER_SEC,
} from "./services.js";
export {
  type BlockerSource,
  MAX_SYMBOL_ROWS,
  p33ReasonOf,
  readSymbolRows,
  type SymbolRow,
  snapshotSymbols,
} from "./symbol-rows.js";
export {
  adviceFor,
  OPEN_ALERT_MAX_AGE_SEC,
  RECENT_ALERTS,
  RECENT_DEAD_LETTERS,
  RECENT_RESULTS,
  RESULTS_SCANNED,
  type ReasonAdvice,
  readWhyNotTrading,
  type WhyNotTrading,
} from "./why-not-trading.js";
