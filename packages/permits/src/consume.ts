import { type ApplyMode, type ExecState, keys } from "@quantum/contracts";
import type { Redis } from "ioredis";
import { InvalidPermitArgumentError } from "./invalid-permit-argument-error.js";
import {
  type ClaimResult,
  type ConsumeResult,
  decodeClaimReply,
  decodeConsumeReply,
  decodeTransitionReply,
  type LastFillMarks,
  type TransitionResult,
} from "./replies.js";

export interface ConsumeParams {
  planId: string;
  symbol: string;
  /** Decides whether a missing kill switch halts (production) or not. */
  mode: ApplyMode;
  /** TTL of the execution record the consume creates, seconds (APPLY_DEDUPE_TTL_SEC). */
  execRecordTtlSec: number;
  /** Clock, epoch ms; default Date.now(). */
  nowMs?: number;
}

export type ClaimParams = ConsumeParams;

export interface TransitionParams {
  planId: string;
  /** State(s) the record must currently be in. */
  expected: ExecState | readonly ExecState[];
  next: ExecState;
  /** Extra hash fields to write with the new state (order id, error, ...). `state`/`updated_at` are reserved. */
  fields?: Readonly<Record<string, string>>;
  nowMs?: number;
}

/** "1" when a missing kill-switch key halts: only in production. */
export function missingKillSwitchHaltsArg(mode: ApplyMode): "0" | "1" {
  return mode === "production" ? "1" : "0";
}

function checkCommon(p: ConsumeParams): { now: string; ttl: string } {
  if (p.planId === "") throw new InvalidPermitArgumentError("planId", "must not be empty");
  if (p.symbol === "") throw new InvalidPermitArgumentError("symbol", "must not be empty");
  if (!Number.isSafeInteger(p.execRecordTtlSec) || p.execRecordTtlSec < 1) {
    throw new InvalidPermitArgumentError(
      "execRecordTtlSec",
      `must be an integer >= 1, got ${p.execRecordTtlSec}`,
    );
  }
  const now = p.nowMs ?? Date.now();
  if (!Number.isFinite(now) || now < 0) {
    throw new InvalidPermitArgumentError("nowMs", `must be a non-negative epoch ms, got ${now}`);
  }
  return { now: String(Math.trunc(now)), ttl: String(p.execRecordTtlSec) };
}

/**
 * One atomic consume attempt: kill switch, trading state, both permits, execution record; on
 * success both permits are deleted and the execution record is CLAIMED (and listed in keys.execOpen). Contents are judged by the caller.
 * The symbol's last-fill marks are read right after the consume on the same connection (one round trip) and
 * come back with a successful consume (`lastFill`, null when those reads failed).
 */
export async function consumePermits(redis: Redis, p: ConsumeParams): Promise<ConsumeResult> {
  const { now, ttl } = checkCommon(p);
  const consumed = redis.quantumConsumePermits(
    keys.governorPermit(p.planId),
    keys.p33Permit(p.planId),
    keys.killSwitch,
    keys.tradingState,
    keys.execRecord(p.planId),
    keys.execOpen,
    now,
    missingKillSwitchHaltsArg(p.mode),
    ttl,
    p.planId,
    p.symbol,
  );
  // Sent in the same tick as the consume, so Redis runs them right after it: no extra round trip.
  const marks = Promise.all([
    redis.get(keys.cooldownLastExecTs(p.symbol)),
    redis.hget(keys.positionLedger(p.symbol), "last_result_plan_id"),
  ]).then(
    ([cooldownLastExecTs, ledgerResultPlanId]): LastFillMarks => ({ cooldownLastExecTs, ledgerResultPlanId }),
    () => null,
  );
  const res = decodeConsumeReply(await consumed);
  const lastFill = await marks;
  return res.outcome === "ok" ? { ...res, lastFill } : res;
}

/**
 * Claim a plan's execution without permits: the TESTNET bypass path only (the caller refuses it in
 * production). Same kill switch, trading state and execution-record rules as `consumePermits`.
 */
export async function claimExecution(redis: Redis, p: ClaimParams): Promise<ClaimResult> {
  const { now, ttl } = checkCommon(p);
  const reply = await redis.quantumClaimExecution(
    keys.killSwitch,
    keys.tradingState,
    keys.execRecord(p.planId),
    keys.execOpen,
    now,
    missingKillSwitchHaltsArg(p.mode),
    ttl,
    p.planId,
    p.symbol,
  );
  return decodeClaimReply(reply);
}

const RESERVED_FIELDS = new Set(["state", "updated_at"]);

/** Compare-and-set of the execution record's state (CLAIMED -> SUBMITTING -> FILLED|REJECTED|UNKNOWN). */
export async function transitionExec(redis: Redis, p: TransitionParams): Promise<TransitionResult> {
  if (p.planId === "") throw new InvalidPermitArgumentError("planId", "must not be empty");
  const expected: readonly string[] = typeof p.expected === "string" ? [p.expected] : p.expected;
  if (expected.length === 0) throw new InvalidPermitArgumentError("expected", "needs at least one state");
  const pairs: string[] = [];
  for (const [field, value] of Object.entries(p.fields ?? {})) {
    if (RESERVED_FIELDS.has(field)) {
      throw new InvalidPermitArgumentError("fields", `"${field}" is written by the transition itself`);
    }
    pairs.push(field, value);
  }
  const now = Math.trunc(p.nowMs ?? Date.now());
  const reply = await redis.quantumTransitionExec(
    keys.execRecord(p.planId),
    expected.join(","),
    p.next,
    String(now),
    ...pairs,
  );
  return decodeTransitionReply(reply);
}
