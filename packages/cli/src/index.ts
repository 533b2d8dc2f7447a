export { parseSymbolList, parseThreshold } from "./commands/dashboard/args.js";
export { confirmDurability, type DurabilityReport } from "./commands/durability.js";
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
export { type StateSetResult, type StateShowResult, stateSet, stateShow } from "./commands/state.js";
export { type StatusResult, statusSnapshot } from "./commands/status.js";
export { CommandFailedError } from "./errors/command-failed-error.js";
export { RedisUnreachableError } from "./errors/redis-unreachable-error.js";
export { UsageError } from "./errors/usage-error.js";
export { EXIT, EXIT_CODE_HELP, type ExitCode } from "./exit-codes.js";
export { buildProgram, runCli } from "./program.js";
export { closeRedis, connectRedis, DEFAULT_REDIS_URL } from "./redis.js";
export type { CliIo } from "./run.js";
