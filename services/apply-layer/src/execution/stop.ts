import type { ApplyReason, Decision, ExecutedStatus } from "@quantum/contracts";

/** Why a plan ends without (more) orders: its result's decision, reason and detail, and the executed status. */
export interface Stop {
  readonly decision: Decision;
  readonly reason: ApplyReason;
  readonly detail: string;
  readonly status?: ExecutedStatus;
}

export function isStop(v: object): v is Stop {
  return "reason" in v && "decision" in v;
}
