import { DEFAULT_STREAM_MAXLEN, type FieldMap, keys, streams } from "@quantum/contracts";
import { InvalidPermitArgumentError, UnexpectedScriptReplyError } from "@quantum/permits";
import type { Redis } from "ioredis";

export interface PublishPlanParams {
  planId: string;
  /** The encoded apply.plan entry (encodeApplyPlan). */
  plan: FieldMap;
  /** The encoded apply.result entry to publish with the plan (non-EXECUTE decisions, dry_run). */
  result?: FieldMap;
  /** Register the plan in keys.applyOpenPlans until its result is published (EXECUTE plans). */
  openPlanJson?: string;
  /** TTL of the plan/result markers (APPLY_DEDUPE_TTL_SEC). */
  dedupeTtlSec: number;
  maxLen?: number;
}

export type PublishPlanResult =
  | { outcome: "published"; planEntryId: string; resultEntryId: string | null }
  | { outcome: "duplicate" };

export interface PublishResultParams {
  planId: string;
  symbol: string;
  /** The encoded apply.result entry (encodeApplyResult). */
  result: FieldMap;
  /**
   * "owned": the caller holds the plan's execution record (or the plan never needs one); the record gets
   * result_published=1. "unclaimed": the plan ended before any claim; published only when no execution
   * record exists, and a DONE record is created so the plan can never execute afterwards.
   */
  claim: "owned" | "unclaimed";
  dedupeTtlSec: number;
  /** TTL of the record an "unclaimed" publish creates. */
  execRecordTtlSec: number;
  maxLen?: number;
  nowMs?: number;
}

export type PublishResultOutcome =
  | { outcome: "published"; entryId: string }
  | { outcome: "duplicate" }
  | { outcome: "claimed" };

function positiveInt(name: string, v: number): string {
  if (!Number.isSafeInteger(v) || v < 1) throw new InvalidPermitArgumentError(name, `must be >= 1, got ${v}`);
  return String(v);
}

function pairs(fields: FieldMap): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(fields)) out.push(k, v);
  return out;
}

function asArray(script: string, reply: unknown): readonly unknown[] {
  if (!Array.isArray(reply) || typeof reply[0] !== "string")
    throw new UnexpectedScriptReplyError(script, reply);
  return reply;
}

/**
 * Publish a plan to apply.plan once per plan_id (marker SET NX + XADD, atomically), optionally with its
 * result. `duplicate` when the plan was already published: nothing is written.
 */
export async function publishPlanOnce(redis: Redis, p: PublishPlanParams): Promise<PublishPlanResult> {
  if (p.planId === "") throw new InvalidPermitArgumentError("planId", "must not be empty");
  const planPairs = pairs(p.plan);
  const resultPairs = p.result === undefined ? [] : pairs(p.result);
  if (planPairs.length === 0) throw new InvalidPermitArgumentError("plan", "must have fields");
  const reply = await redis.quantumPublishPlanOnce(
    keys.planPublished(p.planId),
    keys.resultPublished(p.planId),
    streams.applyPlan,
    streams.applyResult,
    keys.applyOpenPlans,
    p.planId,
    positiveInt("dedupeTtlSec", p.dedupeTtlSec),
    positiveInt("maxLen", p.maxLen ?? DEFAULT_STREAM_MAXLEN),
    p.openPlanJson ?? "",
    String(planPairs.length / 2),
    String(resultPairs.length / 2),
    ...planPairs,
    ...resultPairs,
  );
  const script = "publishPlanOnce-5.lua";
  const r = asArray(script, reply);
  if (r[0] === "duplicate") return { outcome: "duplicate" };
  if (r[0] === "published" && typeof r[1] === "string") {
    return { outcome: "published", planEntryId: r[1], resultEntryId: typeof r[2] === "string" ? r[2] : null };
  }
  throw new UnexpectedScriptReplyError(script, reply);
}

/** Publish the one result of a plan (marker SET NX + XADD + execution record flag, atomically). */
export async function publishResultOnce(redis: Redis, p: PublishResultParams): Promise<PublishResultOutcome> {
  if (p.planId === "") throw new InvalidPermitArgumentError("planId", "must not be empty");
  if (p.symbol === "") throw new InvalidPermitArgumentError("symbol", "must not be empty");
  const resultPairs = pairs(p.result);
  if (resultPairs.length === 0) throw new InvalidPermitArgumentError("result", "must have fields");
  const reply = await redis.quantumPublishResultOnce(
    keys.resultPublished(p.planId),
    streams.applyResult,
    keys.execRecord(p.planId),
    keys.applyOpenPlans,
    keys.execOpen,
    p.planId,
    p.symbol,
    positiveInt("dedupeTtlSec", p.dedupeTtlSec),
    positiveInt("maxLen", p.maxLen ?? DEFAULT_STREAM_MAXLEN),
    p.claim,
    positiveInt("execRecordTtlSec", p.execRecordTtlSec),
    String(Math.trunc(p.nowMs ?? Date.now())),
    ...resultPairs,
  );
  const script = "publishResultOnce-5.lua";
  const r = asArray(script, reply);
  if (r[0] === "duplicate") return { outcome: "duplicate" };
  if (r[0] === "claimed") return { outcome: "claimed" };
  if (r[0] === "published" && typeof r[1] === "string") return { outcome: "published", entryId: r[1] };
  throw new UnexpectedScriptReplyError(script, reply);
}
