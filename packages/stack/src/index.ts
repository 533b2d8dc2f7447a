export {
  DEFAULT_FEEDER_INTERVAL_SEC,
  DEFAULT_STACK_SYMBOLS,
  parseStackArgs,
  STACK_USAGE,
  type StackArgs,
} from "./args.js";
export { StackStartError } from "./errors/stack-start-error.js";
export { StackUsageError } from "./errors/stack-usage-error.js";
export {
  HealthMonitor,
  type HealthStats,
  probe,
  type ServiceHealthStats,
  waitFor200,
} from "./health-monitor.js";
export { fileSink, formatChildLine, type LogSink, terminalSink } from "./logs.js";
export {
  type ChildExit,
  type ChildSpec,
  cleanExit,
  describeExit,
  ManagedChild,
  type ManagedChildOptions,
  stopAndJudge,
} from "./managed-child.js";
export { freePort, isPortFree, pickPort } from "./ports.js";
export {
  closeClient,
  connectWithRetry,
  ensureNotifications,
  type NotificationsReport,
  notificationsSufficient,
  redisServerArgs,
  STACK_NOTIFY_EVENTS,
  supervisorClient,
} from "./redis.js";
export {
  CHILD_NAMES,
  type ChildEnvInput,
  type ChildName,
  childEntry,
  childEnv,
  DEVTOOL_ENTRIES,
  passThroughEnv,
  QUANTUMCTL_ENTRY,
  SERVICE_NAMES,
  SERVICE_NODE_OPTIONS,
  SERVICES,
  type ServiceDef,
  type ServiceName,
} from "./services.js";
export type { Stack, StackOptions } from "./stack-types.js";
export { startStack } from "./start-stack.js";
export { connectExisting, waitForGroups, waitForPaperPositions } from "./startup.js";
export {
  bannerLines,
  quantumctlCommand,
  type StackRedisInfo,
  type StackResult,
  type StackServiceInfo,
  type StackState,
  summaryLines,
  writeStateFile,
} from "./state.js";
export {
  COUNTED_STREAMS,
  countsText,
  type RunCounts,
  runCounts,
  type StreamMarks,
  streamMarks,
} from "./summary.js";
