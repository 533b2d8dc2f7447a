import { type LuaScriptTable, luaScriptTable, RUNTIME_SCRIPTS } from "@quantum/runtime";
import type { Result } from "ioredis";

/** The Lua scripts of this service; files live in its `lua/` dir (this module sits in src/, so `../lua/`). */
export const P35_SCRIPTS = luaScriptTable(new URL("../lua/", import.meta.url), {
  /** Variable key count (3 + buckets): the caller passes numkeys first. */
  applyBatch: {},
  raiseAlert: { numberOfKeys: 2 },
  writeDayRollup: { numberOfKeys: 1 },
});

/** Every script P3.5 runs, loaded on its main connection at startup (`loadScripts`). */
export const SERVICE_SCRIPTS: readonly LuaScriptTable[] = [RUNTIME_SCRIPTS, P35_SCRIPTS];

declare module "ioredis" {
  interface RedisCommander<Context> {
    /** applyBatch.lua; use `applyBatch()` instead. Args: numkeys, keys…, argv…. */
    quantumApplyBatch(numKeys: number, ...keysAndArgs: string[]): Result<unknown, Context>;
    /** raiseAlert-2.lua; use `raiseAlert()` instead. */
    quantumRaiseAlert(
      cooldownKey: string,
      alertStream: string,
      cooldownSec: string,
      maxlen: string,
      alertId: string,
      ...fieldValuePairs: string[]
    ): Result<unknown, Context>;
    /** writeDayRollup-1.lua; use `rollupDay()` instead. */
    quantumWriteDayRollup(
      dayKey: string,
      expireAtSec: string,
      ...fieldValuePairs: string[]
    ): Result<unknown, Context>;
  }
}
