import { type ApplyMode, type ExecState, keys } from "@quantum/contracts";
import type { Redis } from "ioredis";
import { missingKillSwitchHaltsArg } from "./consume.js";
import { InvalidPermitArgumentError } from "./invalid-permit-argument-error.js";
import { type BeginSubmitResult, decodeBeginSubmitReply } from "./replies.js";

export interface BeginSubmitParams {
  planId: string;
  symbol: string;
  /** Decides whether a missing kill switch halts (production) or not. */
  mode: ApplyMode;
  /** States the record may be in (default CLAIMED; SUBMITTING for the next chunk or a retry after a rate limit). */
  expected?: ExecState | readonly ExecState[];
  /** The caller's symbol-lock token: the gate refuses (`lock_lost`) when the lock holds another. */
  lockToken?: string;
  /** Hash fields written with the SUBMITTING state (client order id, side, qty, ...). */
  fields?: Readonly<Record<string, string>>;
  nowMs?: number;
}

/**
 * The gate before each order request (beginSubmit-5.lua): the record moves to SUBMITTING only while the kill
 * switch and the trading state allow it and the caller still holds the symbol lock, atomically, and the plan
 * is listed as in flight in keys.applySubmitting. Send the request only on `ok`, with no awaited I/O between.
 */
export async function beginSubmit(redis: Redis, p: BeginSubmitParams): Promise<BeginSubmitResult> {
  if (p.planId === "") throw new InvalidPermitArgumentError("planId", "must not be empty");
  if (p.symbol === "") throw new InvalidPermitArgumentError("symbol", "must not be empty");
  const expected: readonly string[] =
    p.expected === undefined ? ["CLAIMED"] : typeof p.expected === "string" ? [p.expected] : p.expected;
  if (expected.length === 0) throw new InvalidPermitArgumentError("expected", "needs at least one state");
  const pairs: string[] = [];
  for (const [field, value] of Object.entries(p.fields ?? {})) {
    if (field === "state" || field === "updated_at") {
      throw new InvalidPermitArgumentError("fields", `"${field}" is written by the transition itself`);
    }
    pairs.push(field, value);
  }
  const reply = await redis.quantumBeginSubmit(
    keys.execRecord(p.planId),
    keys.killSwitch,
    keys.tradingState,
    keys.applySubmitting,
    keys.symbolLock(p.symbol),
    String(Math.trunc(p.nowMs ?? Date.now())),
    missingKillSwitchHaltsArg(p.mode),
    p.planId,
    expected.join(","),
    p.lockToken ?? "",
    ...pairs,
  );
  return decodeBeginSubmitReply(reply);
}

/**
 * Plans that passed the gate and whose record is still SUBMITTING: orders that may be on their way to the
 * venue right now. Entries whose record moved on are removed from the in-flight ZSET.
 */
export async function ordersInFlight(redis: Redis): Promise<string[]> {
  const planIds = await redis.zrange(keys.applySubmitting, 0, -1);
  if (planIds.length === 0) return [];
  const pipe = redis.pipeline();
  for (const id of planIds) pipe.hget(keys.execRecord(id), "state");
  const states = (await pipe.exec()) ?? [];
  const inFlight: string[] = [];
  const settled: string[] = [];
  planIds.forEach((id, i) => {
    const state = states[i]?.[1];
    if (state === "SUBMITTING") inFlight.push(id);
    else settled.push(id);
  });
  if (settled.length > 0) await redis.zrem(keys.applySubmitting, ...settled);
  return inFlight;
}
