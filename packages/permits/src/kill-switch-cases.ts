import { APPLY_MODES, type ApplyMode, type TradingState } from "@quantum/contracts";

/** One row of the kill-switch rule. `value: null` = the key is missing. */
export interface KillSwitchCase {
  readonly value: string | null;
  readonly mode: ApplyMode;
  readonly halted: boolean;
}

const HALTING = ["true", "TRUE", "True", "1", "yes", "YES", "on", "ON", " On ", "\ttrue\n"];
const ARMING = ["false", "FALSE", "0", "no", "No", "off", "OFF", " off ", "\tfalse\r\n"];
const UNKNOWN = ["maybe", "", "   ", "2", "enabled", "offf", "tru", "o n", "null"];

/**
 * The shared table both implementations are tested against: the Lua scripts (consume, claim) and the TS
 * twin `killSwitchHalts`. Every value is tried in every mode; only a missing key depends on the mode.
 */
export const KILL_SWITCH_CASES: readonly KillSwitchCase[] = APPLY_MODES.flatMap((mode) => [
  ...HALTING.map((value) => ({ value, mode, halted: true })),
  ...ARMING.map((value) => ({ value, mode, halted: false })),
  ...UNKNOWN.map((value) => ({ value, mode, halted: true })),
  { value: null, mode, halted: mode === "production" },
]);

/** One row of the trading-state rule: missing/ACTIVE/REDUCE_ONLY pass, HALTED and unknown values halt. */
export interface TradingStateCase {
  readonly value: string | null;
  readonly state: TradingState;
  readonly halted: boolean;
}

export const TRADING_STATE_CASES: readonly TradingStateCase[] = [
  { value: null, state: "ACTIVE", halted: false },
  { value: "ACTIVE", state: "ACTIVE", halted: false },
  { value: "active", state: "ACTIVE", halted: false },
  { value: " Active ", state: "ACTIVE", halted: false },
  { value: "REDUCE_ONLY", state: "REDUCE_ONLY", halted: false },
  { value: "reduce_only", state: "REDUCE_ONLY", halted: false },
  { value: "HALTED", state: "HALTED", halted: true },
  { value: "halted", state: "HALTED", halted: true },
  { value: " Halted\n", state: "HALTED", halted: true },
  { value: "", state: "HALTED", halted: true },
  { value: "PAUSED", state: "HALTED", halted: true },
  { value: "reduce-only", state: "HALTED", halted: true },
];
