export {
  type AuditChange,
  type AuditRow,
  atomicChange,
  lastChangeOf,
  queueAudit,
} from "./commands/audit.js";
export {
  CLOSE_FRACTIONS,
  type CloseOptions,
  type CloseResult,
  closePosition,
  operatorProposal,
} from "./commands/close.js";
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
  type QueryBResult,
  type QueryCResult,
  type QueryDResult,
  queryA,
  queryB,
  queryC,
  queryD,
  type SymbolGates,
} from "./commands/dashboard/queries.js";
export {
  type GroupHealth,
  type QueryEResult,
  queryE,
  readGroupHealth,
  WATCHED_GROUPS,
} from "./commands/dashboard/query-e.js";
export { readWindow, SUCCESS_REASON, type WindowData } from "./commands/dashboard/window.js";
export { confirmDurability, type DurabilityReport } from "./commands/durability.js";
export {
  type HealthOptions,
  type HealthResult,
  health,
  probeHealth,
  type ServiceHealth,
} from "./commands/health.js";
export { type HoldResult, setHold } from "./commands/hold.js";
export type { KeyView } from "./commands/key-view.js";
export {
  type KillSetOptions,
  type KillSetResult,
  type KillStatusResult,
  killStatus,
  setKillSwitch,
} from "./commands/kill.js";
export {
  type LedgerAdoptResult,
  type LedgerSetResult,
  type LedgerShowResult,
  ledgerAdopt,
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
  type P33Timing,
  type PositionRow,
  type PositionsResult,
  p33Timing,
  positions,
} from "./commands/positions.js";
export {
  effectiveMode,
  KNOWN_SERVICES,
  type ModeResult,
  type ResolvedMode,
  readServiceStatuses,
  type ServiceStatusRow,
  STALE_AFTER_SEC,
} from "./commands/services.js";
export { type StateSetResult, type StateShowResult, stateSet, stateShow } from "./commands/state.js";
export { type StatusResult, statusSnapshot } from "./commands/status.js";
export {
  listAlerts,
  listAudit,
  listDeadLetters,
  listResults,
  type StreamListResult,
  type StreamRow,
} from "./commands/stream-list.js";
export { allowlistedSymbol, reportedAllowlist } from "./commands/symbols.js";
export { CommandFailedError } from "./errors/command-failed-error.js";
export { RedisUnreachableError } from "./errors/redis-unreachable-error.js";
export { UsageError } from "./errors/usage-error.js";
export { EXIT, EXIT_CODE_HELP, type ExitCode } from "./exit-codes.js";
export { buildProgram, runCli } from "./program.js";
export { closeRedis, connectRedis, DEFAULT_REDIS_URL } from "./redis.js";
export type { CliIo } from "./run.js";
