import { type ApplyMode, errorText, keys, type TradingState } from "@quantum/contracts";
import type { Redis } from "ioredis";

/**
 * TypeScript twin of the rule inside the Lua scripts: the value is trimmed (ASCII whitespace,
 * like Lua's %s) and lower-cased; `false|0|no|off` = armed; `true|1|yes|on` and every other value = halted;
 * a missing key halts only in production.
 */
export function killSwitchHalts(value: string | null, mode: ApplyMode): boolean {
  if (value === null) return mode === "production";
  const v = asciiTrim(value).toLowerCase();
  return !(v === "false" || v === "0" || v === "no" || v === "off");
}

/**
 * Trading state of a raw value: missing = ACTIVE; trimmed and case-insensitive; an unknown
 * value is treated as HALTED (fail closed).
 */
export function parseTradingState(value: string | null): TradingState {
  if (value === null) return "ACTIVE";
  const v = asciiTrim(value).toUpperCase();
  return v === "ACTIVE" || v === "REDUCE_ONLY" ? v : "HALTED";
}

/** True when the trading state stops execution like the kill switch (HALTED or an unknown value). */
export function tradingStateHalts(value: string | null): boolean {
  return parseTradingState(value) === "HALTED";
}

export interface KillSwitchStatus {
  halted: boolean;
  /** Raw value of the kill-switch key; null when missing or unreadable. */
  value: string | null;
  reason?: string;
  by?: string;
  at?: string;
  /** Set when Redis could not be read; the switch then counts as halted. */
  error?: string;
}

/** Read the kill switch and its reason/by/at. A Redis error counts as halted (never fail open). */
export async function readKillSwitch(redis: Redis, mode: ApplyMode): Promise<KillSwitchStatus> {
  let values: (string | null)[];
  try {
    values = await redis.mget(keys.killSwitch, keys.killSwitchReason, keys.killSwitchBy, keys.killSwitchAt);
  } catch (err) {
    return { halted: true, value: null, error: errorText(err) };
  }
  const [value = null, reason = null, by = null, at = null] = values;
  const status: KillSwitchStatus = { halted: killSwitchHalts(value, mode), value };
  if (reason !== null) status.reason = reason;
  if (by !== null) status.by = by;
  if (at !== null) status.at = at;
  return status;
}

export interface TradingStateStatus {
  state: TradingState;
  halted: boolean;
  /** Raw value; null when missing or unreadable. */
  value: string | null;
  /** Set when Redis could not be read; the state then counts as HALTED. */
  error?: string;
}

/** Read the trading state, failing closed: an unknown value or a Redis error is HALTED. */
export async function readTradingState(redis: Redis): Promise<TradingStateStatus> {
  try {
    const value = await redis.get(keys.tradingState);
    const state = parseTradingState(value);
    return { state, halted: state === "HALTED", value };
  } catch (err) {
    return {
      state: "HALTED",
      halted: true,
      value: null,
      error: errorText(err),
    };
  }
}

function asciiTrim(s: string): string {
  return s.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, "");
}
