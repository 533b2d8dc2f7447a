import { defineLuaScripts, loadLuaScripts, luaScriptsDefined } from "@quantum/runtime";
import type { Redis, Result } from "ioredis";

/** The Lua scripts of this service; files live in the package's `lua/` dir, next to `src/` and `dist/`. */
export const P35_SCRIPTS = {
  /** Variable key count (3 + buckets): the caller passes numkeys first. */
  applyBatch: { file: "applyBatch.lua", command: "p35ApplyBatch" },
  raiseAlert: { file: "raiseAlert-2.lua", command: "p35RaiseAlert", numberOfKeys: 2 },
  writeDayRollup: { file: "writeDayRollup-1.lua", command: "p35WriteDayRollup", numberOfKeys: 1 },
} as const;

declare module "ioredis" {
  interface RedisCommander<Context> {
    /** applyBatch.lua; use `applyBatch()` instead. Args: numkeys, keys…, argv…. */
    p35ApplyBatch(numKeys: number, ...keysAndArgs: string[]): Result<unknown, Context>;
    /** raiseAlert-2.lua; use `raiseAlert()` instead. */
    p35RaiseAlert(
      cooldownKey: string,
      alertStream: string,
      cooldownSec: string,
      maxlen: string,
      alertId: string,
      ...fieldValuePairs: string[]
    ): Result<unknown, Context>;
    /** writeDayRollup-1.lua; use `rollupDay()` instead. */
    p35WriteDayRollup(
      dayKey: string,
      expireAtSec: string,
      ...fieldValuePairs: string[]
    ): Result<unknown, Context>;
  }
}

/** `lua/` of this package, resolved from the running module (src/*.ts in tests, dist/main.js when built). */
export const LUA_DIR: URL = new URL("../lua/", import.meta.url);

/**
 * Define the P3.5 scripts as commands on `redis` (EVALSHA with EVAL fallback, by ioredis). Idempotent per
 * client. Throws LuaScriptLoadError at startup when a file is missing.
 */
export function registerP35Scripts(redis: Redis, dir: URL = LUA_DIR): void {
  if (luaScriptsDefined(redis, P35_SCRIPTS)) return;
  defineLuaScripts(redis, P35_SCRIPTS, loadLuaScripts(dir, P35_SCRIPTS));
}
