import type { ConsumeOutcome, MissingPermitKind } from "@quantum/contracts";
import { UnexpectedScriptReplyError } from "./unexpected-script-reply-error.js";

/** Result of one consume attempt (consumePermits-6.lua). TTLs are PTTL values: -2 missing, -1 no expiry. */
export type ConsumeResult =
  | { outcome: "ok"; governorRaw: string; p33Raw: string; lastFill: LastFillMarks | null }
  | { outcome: "kill_switch_active" }
  | { outcome: "trading_state_halted" }
  | { outcome: MissingPermitKind; governorTtlMs: number; p33TtlMs: number }
  | { outcome: "already_executed" };

/**
 * The symbol's last-fill marks as read right after a successful consume, in the same round trip: the cooldown
 * key (epoch ms of this layer's last fill) and the ledger's last_result_plan_id (null when absent). The
 * caller's stale-permit check compares the permit against them. null when those reads failed.
 */
export interface LastFillMarks {
  readonly cooldownLastExecTs: string | null;
  readonly ledgerResultPlanId: string | null;
}

/** Result of a permit-less claim (claimExecution-4.lua, TESTNET bypass). */
export type ClaimResult = {
  outcome: Extract<ConsumeOutcome, "ok" | "kill_switch_active" | "trading_state_halted" | "already_executed">;
};

/** Result of an execution-record compare-and-set (transitionExec-1.lua). */
export type TransitionResult =
  | { outcome: "ok"; previousState: string }
  | { outcome: "state_mismatch"; currentState: string | null }
  | { outcome: "missing" };

type Reply = readonly unknown[];

function asReply(script: string, reply: unknown, minLength: number): Reply {
  if (!Array.isArray(reply) || reply.length < minLength || typeof reply[0] !== "string") {
    throw new UnexpectedScriptReplyError(script, reply);
  }
  return reply;
}

function str(script: string, reply: Reply, i: number): string {
  const v = reply[i];
  if (typeof v !== "string") throw new UnexpectedScriptReplyError(script, reply);
  return v;
}

function int(script: string, reply: Reply, i: number): number {
  const v = reply[i];
  if (typeof v !== "number" || !Number.isInteger(v)) throw new UnexpectedScriptReplyError(script, reply);
  return v;
}

/**
 * The one place that maps the consume script's return codes to a typed result. Codes are compared as
 * values of `CONSUME_OUTCOMES`; Redis error replies never reach this function (they reject the command).
 */
export function decodeConsumeReply(reply: unknown): ConsumeResult {
  const script = "consumePermits-6.lua";
  const r = asReply(script, reply, 5);
  const code = r[0] as string;
  switch (code) {
    case "ok":
      return { outcome: "ok", governorRaw: str(script, r, 1), p33Raw: str(script, r, 2), lastFill: null };
    case "kill_switch_active":
    case "trading_state_halted":
    case "already_executed":
      return { outcome: code };
    case "missing_both":
    case "missing_governor":
    case "missing_p33":
      return { outcome: code, governorTtlMs: int(script, r, 3), p33TtlMs: int(script, r, 4) };
    default:
      throw new UnexpectedScriptReplyError(script, reply);
  }
}

/** Maps the claim script's return codes (a subset of the consume codes). */
export function decodeClaimReply(reply: unknown): ClaimResult {
  const script = "claimExecution-4.lua";
  const code = asReply(script, reply, 1)[0] as string;
  switch (code) {
    case "ok":
    case "kill_switch_active":
    case "trading_state_halted":
    case "already_executed":
      return { outcome: code };
    default:
      throw new UnexpectedScriptReplyError(script, reply);
  }
}

/** Maps the compare-and-set script's return codes. */
export function decodeTransitionReply(reply: unknown): TransitionResult {
  const script = "transitionExec-1.lua";
  const r = asReply(script, reply, 1);
  const code = r[0] as string;
  switch (code) {
    case "ok":
      return { outcome: "ok", previousState: str(script, r, 1) };
    case "state_mismatch": {
      const current = r[1];
      return { outcome: "state_mismatch", currentState: typeof current === "string" ? current : null };
    }
    case "missing":
      return { outcome: "missing" };
    default:
      throw new UnexpectedScriptReplyError(script, reply);
  }
}

export type BeginSubmitResult =
  | { outcome: "ok" }
  | { outcome: "kill_switch_active" }
  | { outcome: "trading_state_halted" }
  | { outcome: "lock_lost" }
  | { outcome: "state_mismatch"; currentState: string | null }
  | { outcome: "missing" };

export function decodeBeginSubmitReply(reply: unknown): BeginSubmitResult {
  const script = "beginSubmit-5.lua";
  const r = asReply(script, reply, 1);
  const code = r[0] as string;
  switch (code) {
    case "ok":
    case "kill_switch_active":
    case "trading_state_halted":
    case "lock_lost":
    case "missing":
      return { outcome: code };
    case "state_mismatch": {
      const current = r[1];
      return { outcome: "state_mismatch", currentState: typeof current === "string" ? current : null };
    }
    default:
      throw new UnexpectedScriptReplyError(script, reply);
  }
}
