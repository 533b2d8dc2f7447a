import type { ApplyMode, MissingPermitKind } from "@quantum/contracts";
import type { LastFillMarks } from "./replies.js";

export interface PermitWaitParams {
  planId: string;
  symbol: string;
  /** Give up after this long (APPLY_PERMIT_WAIT_MS). */
  maxWaitMs: number;
  /** Fallback poll interval (APPLY_PERMIT_STEP_MS); the only path when keyspace notifications are off. */
  stepMs: number;
  mode: ApplyMode;
  /** TTL of the execution record a successful consume creates (APPLY_DEDUPE_TTL_SEC). */
  execRecordTtlSec: number;
  /** Cancels the wait (shutdown). An attempt already in flight is awaited: its result wins if it consumed. */
  signal?: AbortSignal;
}

/** `quantum:governor:block:<plan_id>` as found: parsed JSON when it is a JSON object, always the raw text. */
export interface GovernorBlock {
  raw: string;
  json: Record<string, unknown> | null;
  /** `reason` of the JSON when it is a string. */
  reason: string | null;
}

interface WaitBase {
  /** Milliseconds from the start of the wait to the consume (or to the end). */
  waitMs: number;
  /** Consume attempts made. */
  attempts: number;
}

/** How a wait ended. TTLs are PTTL values of the last attempt (-2 missing, -1 no expiry). */
export type PermitWaitEnd =
  | { outcome: "ok"; governorRaw: string; p33Raw: string; lastFill: LastFillMarks | null }
  | { outcome: "kill_switch_active" | "trading_state_halted" | "already_executed" }
  | { outcome: "governor_blocked"; block: GovernorBlock }
  | { outcome: "timeout"; missing: MissingPermitKind; governorTtlMs: number; p33TtlMs: number }
  | { outcome: "aborted"; missing: MissingPermitKind | null }
  /** Redis failed on the last attempt before the deadline (the plan must not execute). */
  | { outcome: "error"; error: Error; missing: MissingPermitKind | null };

export type PermitWaitResult = WaitBase & PermitWaitEnd;

export type PermitWaitOutcome = PermitWaitResult["outcome"];

/** The subset of a pino logger the waiter uses. */
export interface PermitLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}
