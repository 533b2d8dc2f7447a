import { keys, TRADING_STATES, type TradingState } from "@quantum/contracts";
import { readTradingState, type TradingStateStatus } from "@quantum/permits";
import type { Redis } from "ioredis";
import { CommandFailedError } from "../errors/command-failed-error.js";
import { UsageError } from "../errors/usage-error.js";
import { type AuditRow, atomicChange, lastChangeOf, queueAudit } from "./audit.js";
import { attribution } from "./kill.js";

/** The audit command that changes the trading state. */
export const STATE_COMMANDS = ["state set"] as const;

export interface StateShowResult {
  readonly state: TradingState;
  readonly halted: boolean;
  /** Raw value; null when the key is missing (= ACTIVE). */
  readonly value: string | null;
  readonly explanation: string;
  /** Who set the current value and why, from the audit stream (as `kill status`). */
  readonly reason: string | null;
  readonly by: string | null;
  readonly atIso: string | null;
  readonly lastChange: AuditRow | null;
}

export interface StateSetResult {
  readonly previous: StateShowResult;
  readonly state: TradingState;
  readonly reason: string | null;
  readonly by: string;
}

function show(
  s: TradingStateStatus,
  who: { reason: string | null; by: string | null; atIso: string | null; lastChange: AuditRow | null },
): StateShowResult {
  if (s.error !== undefined) throw new CommandFailedError(`cannot read the trading state: ${s.error}`);
  let explanation: string;
  if (s.value === null) explanation = "key missing: ACTIVE (default)";
  else if (s.value.trim().toUpperCase() !== s.state)
    explanation = `unknown value "${s.value}": HALTED (fail closed)`;
  else if (s.state === "HALTED") explanation = "HALTED acts as the kill switch: nothing executes";
  else if (s.state === "REDUCE_ONLY") explanation = "REDUCE_ONLY: only reduce-only closes go through";
  else explanation = "ACTIVE";
  return { state: s.state, halted: s.halted, value: s.value, explanation, ...who };
}

export function parseTradingStateArg(arg: string): TradingState {
  const v = arg.trim().toUpperCase();
  if (!(TRADING_STATES as readonly string[]).includes(v)) {
    throw new UsageError(`state set: expected one of ${TRADING_STATES.join("|")}, got "${arg}"`);
  }
  return v as TradingState;
}

/** `state show`. */
export async function stateShow(redis: Redis): Promise<StateShowResult> {
  const [s, lastChange, reason, by, at] = await Promise.all([
    readTradingState(redis),
    lastChangeOf(redis, keys.tradingState, STATE_COMMANDS),
    redis.get(keys.tradingStateReason),
    redis.get(keys.tradingStateBy),
    redis.get(keys.tradingStateAt),
  ]);
  const who = attribution(s.value, lastChange, {
    ...(reason !== null ? { reason } : {}),
    ...(by !== null ? { by } : {}),
    ...(at !== null ? { at } : {}),
  });
  return show(s, { reason: who.reason, by: who.by, atIso: who.atIso, lastChange });
}

/**
 * `state set ACTIVE|REDUCE_ONLY|HALTED [--reason]` (case-insensitive input, written upper-case): the value,
 * its reason/by/at, the audit entry and the audit's last-seen value in one MULTI.
 */
export async function stateSet(
  redis: Redis,
  arg: string,
  opts: { by: string; reason?: string; nowMs?: number },
): Promise<StateSetResult> {
  const state = parseTradingStateArg(arg);
  const reason = opts.reason?.trim() ? opts.reason.trim() : null;
  const nowMs = opts.nowMs ?? Date.now();
  const previous = await atomicChange(redis, [keys.tradingState], async (tx) => {
    const before = await stateShow(redis);
    tx.set(keys.tradingState, state)
      .set(keys.tradingStateBy, opts.by)
      .set(keys.tradingStateAt, (nowMs / 1000).toFixed(3));
    if (reason === null) tx.del(keys.tradingStateReason);
    else tx.set(keys.tradingStateReason, reason);
    tx.hset(keys.auditLastSeen, keys.tradingState, state);
    queueAudit(
      tx,
      opts.by,
      { command: "state set", args: [state], reason, before: before.value, after: state },
      nowMs,
    );
    return before;
  });
  return { previous, state, reason, by: opts.by };
}
