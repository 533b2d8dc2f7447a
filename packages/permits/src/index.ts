export {
  APPLY_SCRIPTS,
  type ApplyScriptName,
  type ApplyScriptSources,
  loadApplyScripts,
  registerApplyScripts,
} from "./apply-scripts.js";
export {
  type ClaimParams,
  type ConsumeParams,
  claimExecution,
  consumePermits,
  missingKillSwitchHaltsArg,
  type TransitionParams,
  transitionExec,
} from "./consume.js";
export { InvalidPermitArgumentError } from "./invalid-permit-argument-error.js";
export {
  type KillSwitchStatus,
  killSwitchHalts,
  parseTradingState,
  readKillSwitch,
  readTradingState,
  type TradingStateStatus,
  tradingStateHalts,
} from "./kill-switch.js";
export {
  KILL_SWITCH_CASES,
  type KillSwitchCase,
  TRADING_STATE_CASES,
  type TradingStateCase,
} from "./kill-switch-cases.js";
export { PermitScriptLoadError } from "./permit-script-load-error.js";
export {
  type KeyspaceWatch,
  keyspaceEventsEnabled,
  keyspaceNotificationsEnabled,
  PermitWaiter,
  type PermitWaiterOptions,
  waitAndConsumePermits,
} from "./permit-waiter.js";
export { parseGovernorBlock } from "./plan-permit-wait.js";
export {
  type PublishPlanParams,
  type PublishPlanResult,
  type PublishResultOutcome,
  type PublishResultParams,
  publishPlanOnce,
  publishResultOnce,
} from "./publish.js";
export type { BeginSubmitResult } from "./replies.js";
export {
  type ClaimResult,
  type ConsumeResult,
  decodeClaimReply,
  decodeConsumeReply,
  decodeTransitionReply,
  type TransitionResult,
} from "./replies.js";
export {
  DEFAULT_LUA_DIR,
  loadPermitScripts,
  PERMIT_SCRIPTS,
  type PermitScriptName,
  type PermitScriptSources,
  permitScriptsRegistered,
  registerPermitScripts,
} from "./scripts.js";
export { type BeginSubmitParams, beginSubmit, ordersInFlight } from "./submit.js";
export {
  type AcquireSymbolLockParams,
  type AcquireSymbolLockResult,
  acquireSymbolLock,
  releaseSymbolLock,
} from "./symbol-lock.js";
export { UnexpectedScriptReplyError } from "./unexpected-script-reply-error.js";
export type {
  GovernorBlock,
  PermitLogger,
  PermitWaitEnd,
  PermitWaitOutcome,
  PermitWaitParams,
  PermitWaitResult,
} from "./wait-types.js";
