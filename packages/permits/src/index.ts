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
export {
  type KeyspaceWatch,
  keyspaceEventsEnabled,
  keyspaceNotificationsEnabled,
  PermitWaiter,
  type PermitWaiterOptions,
  waitAndConsumePermits,
} from "./permit-waiter.js";
export { parseGovernorBlock } from "./plan-permit-wait.js";
export type { BeginSubmitResult } from "./replies.js";
export {
  type ClaimResult,
  type ConsumeResult,
  decodeClaimReply,
  decodeConsumeReply,
  decodeTransitionReply,
  type LastFillMarks,
  type TransitionResult,
} from "./replies.js";
export { PERMIT_SCRIPTS } from "./scripts.js";
export { type BeginSubmitParams, beginSubmit, ordersInFlight } from "./submit.js";
export { UnexpectedScriptReplyError } from "./unexpected-script-reply-error.js";
export type {
  GovernorBlock,
  PermitLogger,
  PermitWaitEnd,
  PermitWaitOutcome,
  PermitWaitParams,
  PermitWaitResult,
} from "./wait-types.js";
