export {
  type EnvAliases,
  type EnvSource,
  type EnvVarDoc,
  envFilesFromArgv,
  type LoadConfigOptions,
  listEnvVars,
  loadConfig,
  resolveEnv,
} from "./config.js";
export {
  CHECK_CONFIG_FLAG,
  EXIT_CONFIG_INVALID,
  reportConfigCheck,
  wantsConfigCheck,
} from "./config-check.js";
export { ConfigError } from "./config-error.js";
export {
  CONSUMER_HEARTBEAT_TTL_MS,
  type ConsumerHeartbeat,
  type ConsumerHeartbeatOptions,
  claimConsumerName,
} from "./consumer-heartbeat.js";
export { ConsumerNameInUseError } from "./consumer-name-in-use-error.js";
export {
  envBool,
  envEnum,
  envInt,
  envList,
  envLogLevel,
  envNumber,
  envPort,
  envString,
  type ListOptions,
  LOG_LEVELS,
  type LogLevel,
  type NumberBounds,
} from "./env-schemas.js";
export { createLogger, type Logger, type LoggerOptions } from "./logger.js";
export { LuaScriptLoadError } from "./lua-script-load-error.js";
export {
  type LuaScriptSpec,
  type LuaScriptTable,
  loadScripts,
  luaCommandName,
  luaScriptFile,
  luaScriptTable,
  readLuaScript,
  readLuaScripts,
  scriptsLoaded,
} from "./lua-scripts.js";
export { REDACTED, redactPaths, redactString, SENSITIVE_KEYS } from "./redact.js";
export {
  BLOCKING_COMMAND_TIMEOUT_MS,
  type CreateRedisOptions,
  closeRedis,
  createRedis,
  MAIN_COMMAND_TIMEOUT_MS,
  type RedisConnectionConfig,
  type RedisRole,
  reconnectDelayMs,
  redisDb,
  redisHealthy,
  redisOptionsFromConfig,
  redisReady,
} from "./redis.js";
export {
  type RedisConfig,
  redisAliases,
  redisConfigSchema,
  redisConfigShape,
  type SentinelAddress,
} from "./redis-config.js";
export { runMain } from "./run-main.js";
export { compareAndDelete, RUNTIME_SCRIPTS } from "./runtime-scripts.js";
export {
  createServiceHost,
  runService,
  type ServiceHost,
  type ServiceHostContext,
  type ServiceHostStartOptions,
  type ServiceIdentityOptions,
  type ServiceParts,
} from "./service-host.js";
export { onShutdown, type ShutdownControl, type ShutdownOptions } from "./shutdown.js";
export { sleep } from "./sleep.js";
export { type StatusHeartbeat, type StatusHeartbeatOptions, startStatusHeartbeat } from "./status.js";
export { StreamConsumer } from "./stream-consumer.js";
export type { StreamConsumerOptions, StreamItem, StreamSlots } from "./stream-consumer-options.js";
export { type GroupInfo, parseXinfoGroups } from "./stream-replies.js";
export {
  consumerName,
  DEAD_LETTER_ERROR_MAX_BYTES,
  DEAD_LETTER_VALUE_MAX_BYTES,
  type DeadLetterInput,
  deadLetter,
  deadLetterFields,
  ensureGroup,
  truncateUtf8,
  xaddArgs,
  xaddCapped,
} from "./streams.js";
