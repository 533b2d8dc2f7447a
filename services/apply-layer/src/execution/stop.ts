import {
  type ApplyReason,
  type Decision,
  type ExecutedStatus,
  isApplyReason,
  type ReasonContext,
  type Reasoned,
} from "@quantum/contracts";

/**
 * Why a plan ends without (more) orders: its result's decision, a reason from the contracts' list and the
 * facts behind it (the result's `detail` is rendered from them), and the executed status.
 */
export interface Stop extends Reasoned<ApplyReason> {
  readonly decision: Decision;
  readonly status?: ExecutedStatus;
}

/**
 * Build a Stop. The reason is typed, and checked again at run time: a code that is not in the contracts'
 * list throws here, before anything is written.
 */
export function stopWith(
  decision: Decision,
  reason: ApplyReason,
  context: ReasonContext = {},
  status?: ExecutedStatus,
): Stop {
  if (!isApplyReason(reason)) throw new RangeError(`not an Apply Layer reason: ${String(reason)}`);
  return { decision, reason, context, ...(status !== undefined ? { status } : {}) };
}

export function isStop(v: object): v is Stop {
  return "reason" in v && "decision" in v;
}
