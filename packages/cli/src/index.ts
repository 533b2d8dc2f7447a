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
export { parseSymbolList, parseThreshold } from "./commands/dashboard/args.js";
export { confirmDurability, type DurabilityReport } from "./commands/durability.js";
export { type HoldResult, setHold } from "./commands/hold.js";
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
