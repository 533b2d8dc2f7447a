import { EXCHANGE_SCRIPTS } from "@quantum/exchange";
import { PERMIT_SCRIPTS } from "@quantum/permits";
import { type LuaScriptTable, luaScriptTable, RUNTIME_SCRIPTS } from "@quantum/runtime";
import type { Result } from "ioredis";

/** The Apply Layer's own Lua scripts; files live in its `lua/` dir (this module sits in src/, so `../lua/`). */
export const APPLY_SCRIPTS = luaScriptTable(new URL("../lua/", import.meta.url), {
  publishPlanOnce: { numberOfKeys: 5 },
  publishResultOnce: { numberOfKeys: 5 },
  acquireLock: { numberOfKeys: 1 },
  recordExternalChange: { numberOfKeys: 6 },
});

/**
 * Every script the Apply Layer runs (the paper venue's too: it is chosen at runtime), loaded on its main
 * connection at startup with `loadScripts`, so a missing file stops the start, not the first plan.
 */
export const SERVICE_SCRIPTS: readonly LuaScriptTable[] = [
  RUNTIME_SCRIPTS,
  PERMIT_SCRIPTS,
  EXCHANGE_SCRIPTS,
  APPLY_SCRIPTS,
];

declare module "ioredis" {
  interface RedisCommander<Context> {
    /** publishPlanOnce-5.lua; use `publishPlanOnce()`. */
    quantumPublishPlanOnce(...args: string[]): Result<unknown, Context>;
    /** publishResultOnce-5.lua; use `publishResultOnce()`. */
    quantumPublishResultOnce(...args: string[]): Result<unknown, Context>;
    /** acquireLock-1.lua; use `acquireSymbolLock()`. */
    quantumAcquireLock(
      lockKey: string,
      token: string,
      ttlMs: string,
      takeoverPrefix: string,
      selfPrefix: string,
    ): Result<unknown, Context>;
    /** recordExternalChange-6.lua; use `recordExternalChange()`. */
    quantumRecordExternalChange(
      watchedKey: string,
      lastSeenKey: string,
      auditKey: string,
      byKey: string,
      atKey: string,
      reasonKey: string,
      field: string,
      nowSec: string,
      maxLen: string,
      actor: string,
      command: string,
      args: string,
    ): Result<number, Context>;
  }
}
