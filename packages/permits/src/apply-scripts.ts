import { defineLuaScripts, loadLuaScripts, luaScriptsDefined } from "@quantum/runtime";
import type { Redis, Result } from "ioredis";
import { PermitScriptLoadError } from "./permit-script-load-error.js";
import { DEFAULT_LUA_DIR } from "./scripts.js";

/**
 * The Apply Layer's publish-once and symbol-lock scripts (same `lua/` dir as the permit scripts). They are
 * loaded and registered on their own: only the code that publishes plans and results or holds symbol locks
 * needs them, while every permit user needs the permit scripts.
 */
export const APPLY_SCRIPTS = {
  publishPlanOnce: { file: "publishPlanOnce-5.lua", command: "quantumPublishPlanOnce", numberOfKeys: 5 },
  publishResultOnce: {
    file: "publishResultOnce-5.lua",
    command: "quantumPublishResultOnce",
    numberOfKeys: 5,
  },
  acquireLock: { file: "acquireLock-1.lua", command: "quantumAcquireLock", numberOfKeys: 1 },
  releaseLock: { file: "releaseLock-1.lua", command: "quantumReleaseLock", numberOfKeys: 1 },
} as const;

export type ApplyScriptName = keyof typeof APPLY_SCRIPTS;
export type ApplyScriptSources = Readonly<Record<ApplyScriptName, string>>;

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
    /** releaseLock-1.lua; use `releaseSymbolLock()`. */
    quantumReleaseLock(lockKey: string, token: string): Result<unknown, Context>;
  }
}

let defaultSources: ApplyScriptSources | null = null;

/** Read the Apply Layer scripts; throws PermitScriptLoadError naming a missing or empty file. */
export function loadApplyScripts(luaDir: URL = DEFAULT_LUA_DIR): ApplyScriptSources {
  const isDefault = luaDir.href === DEFAULT_LUA_DIR.href;
  if (isDefault && defaultSources !== null) return defaultSources;
  const sources = loadLuaScripts(
    luaDir,
    APPLY_SCRIPTS,
    (path, cause) => new PermitScriptLoadError(path, cause),
  );
  if (isDefault) defaultSources = sources;
  return sources;
}

/** Define the Apply Layer scripts as commands on `redis` (idempotent per client). Call at startup. */
export function registerApplyScripts(redis: Redis, opts: { luaDir?: URL } = {}): void {
  if (luaScriptsDefined(redis, APPLY_SCRIPTS)) return;
  defineLuaScripts(redis, APPLY_SCRIPTS, loadApplyScripts(opts.luaDir));
}
