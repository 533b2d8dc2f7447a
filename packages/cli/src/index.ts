export {
  lastMinutes,
  minuteLabel,
  parseSymbolReason,
  sumSymbolReasons,
} from "./commands/dashboard/buckets.js";
export {
  DASHBOARD_QUERIES,
  type DashboardAllResult,
  type DashboardOptions,
  type DashboardQuery,
  type DashboardResult,
  dashboard,
  dashboardCondition,
} from "./commands/dashboard/index.js";
export {
  DEFAULT_GATE_THRESHOLD_PCT,
  type GateRow,
  parseSymbolList,
  parseThreshold,
  type QueryAResult,
  type QueryCResult,
  type QueryDResult,
  queryA,
  queryC,
  queryD,
} from "./commands/dashboard/queries.js";
export {
  type GroupHealth,
  type QueryEResult,
  queryE,
  readGroupHealth,
  WATCHED_GROUPS,
} from "./commands/dashboard/query-e.js";
export {
  type QueryBResult,
  queryB,
  readSymbolWindow,
  type SymbolGates,
  type SymbolWindowCounts,
} from "./commands/dashboard/symbol-windows.js";
export { readWindow, SUCCESS_REASON, type WindowData } from "./commands/dashboard/window.js";
export { confirmDurability, type DurabilityReport } from "./commands/durability.js";
export {
  type HealthOptions,
  type HealthResult,
  health,
  probeHealth,
  type ServiceHealth,
} from "./commands/health.js";
export type { KeyView } from "./commands/key-view.js";
export {
  type KillSetOptions,
  type KillSetResult,
  type KillStatusResult,
  killStatus,
  setKillSwitch,
} from "./commands/kill.js";
export {
  type LedgerSetResult,
  type LedgerShowResult,
  ledgerSet,
  ledgerShow,
  type PositionResult,
  parseAmount,
  positionShow,
} from "./commands/ledger.js";
export {
  type PermitGrantOptions,
  type PermitGrantResult,
  type PermitShowResult,
  permitGrant,
  permitShow,
} from "./commands/permit.js";
export {
  KNOWN_SERVICES,
  type ModeResult,
  readServiceStatuses,
  resolveApplyMode,
  type ServiceStatusRow,
  STALE_AFTER_SEC,
} from "./commands/services.js";
export { type StateSetResult, type StateShowResult, stateSet, stateShow } from "./commands/state.js";
export { type StatusResult, statusSnapshot } from "./commands/status.js";
export { CommandFailedError } from "./errors/command-failed-error.js";
export { RedisUnreachableError } from "./errors/redis-unreachable-error.js";
export { UsageError } from "./errors/usage-error.js";
export { EXIT, EXIT_CODE_HELP, type ExitCode } from "./exit-codes.js";
export { buildProgram, runCli } from "./program.js";
export { closeRedis, connectRedis, DEFAULT_REDIS_URL } from "./redis.js";
export type { CliIo } from "./run.js";
