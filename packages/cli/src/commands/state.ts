import { keys, TRADING_STATES, type TradingState } from "@quantum/contracts";
import { readTradingState, type TradingStateStatus } from "@quantum/permits";
import type { Redis } from "ioredis";
import { CommandFailedError } from "../errors/command-failed-error.js";
import { UsageError } from "../errors/usage-error.js";

export interface StateShowResult {
  readonly state: TradingState;
  readonly halted: boolean;
  /** Raw value; null when the key is missing (= ACTIVE). */
  readonly value: string | null;
  readonly explanation: string;
}

export interface StateSetResult {
  readonly previous: StateShowResult;
  readonly state: TradingState;
}

function show(s: TradingStateStatus): StateShowResult {
  if (s.error !== undefined) throw new CommandFailedError(`cannot read the trading state: ${s.error}`);
  let explanation: string;
  if (s.value === null) explanation = "key missing: ACTIVE (default)";
  else if (s.value.trim().toUpperCase() !== s.state)
    explanation = `unknown value "${s.value}": HALTED (fail closed)`;
  else if (s.state === "HALTED") explanation = "HALTED acts as the kill switch: nothing executes";
  else if (s.state === "REDUCE_ONLY") explanation = "REDUCE_ONLY: only reduce-only closes go through";
  else explanation = "ACTIVE";
  return { state: s.state, halted: s.halted, value: s.value, explanation };
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
  return show(await readTradingState(redis));
}

/** `state set ACTIVE|REDUCE_ONLY|HALTED` (case-insensitive input, written upper-case). */
export async function stateSet(redis: Redis, arg: string): Promise<StateSetResult> {
  const state = parseTradingStateArg(arg);
  const previous = await stateShow(redis);
  await redis.set(keys.tradingState, state);
  return { previous, state };
}
