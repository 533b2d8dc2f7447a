import { type ApplyMode, keys } from "@quantum/contracts";
import type { Redis } from "ioredis";
import { missingKillSwitchHaltsArg } from "./consume.js";
import { InvalidPermitArgumentError } from "./invalid-permit-argument-error.js";
import { type BeginSubmitResult, decodeBeginSubmitReply } from "./replies.js";
import { registerPermitScripts } from "./scripts.js";

export interface BeginSubmitParams {
  planId: string;
  /** Decides whether a missing kill switch halts (production) or not. */
  mode: ApplyMode;
  /** Hash fields written with the SUBMITTING state (client order id, side, qty, ...). */
  fields?: Readonly<Record<string, string>>;
  nowMs?: number;
}

/**
 * The gate before an order (beginSubmit-4.lua): CLAIMED → SUBMITTING only while the kill switch and the
 * trading state allow it, atomically, and the plan listed as in flight in keys.applySubmitting. Send the order
 * only on `ok`.
 */
export async function beginSubmit(redis: Redis, p: BeginSubmitParams): Promise<BeginSubmitResult> {
  if (p.planId === "") throw new InvalidPermitArgumentError("planId", "must not be empty");
  const pairs: string[] = [];
  for (const [field, value] of Object.entries(p.fields ?? {})) {
    if (field === "state" || field === "updated_at") {
      throw new InvalidPermitArgumentError("fields", `"${field}" is written by the transition itself`);
    }
    pairs.push(field, value);
  }
  registerPermitScripts(redis);
  const reply = await redis.quantumBeginSubmit(
    keys.execRecord(p.planId),
    keys.killSwitch,
    keys.tradingState,
    keys.applySubmitting,
    String(Math.trunc(p.nowMs ?? Date.now())),
    missingKillSwitchHaltsArg(p.mode),
    p.planId,
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
