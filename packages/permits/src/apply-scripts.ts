import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Redis, Result } from "ioredis";
import { PermitScriptLoadError } from "./permit-script-load-error.js";
import { DEFAULT_LUA_DIR } from "./scripts.js";

/**
 * The Apply Layer's publish-once and symbol-lock scripts (same `lua/` dir as the permit scripts, loaded
 * and registered separately so the permit script set stays as it is).
 */
export const APPLY_SCRIPTS = {
  publishPlanOnce: { file: "publishPlanOnce-5.lua", command: "quantumPublishPlanOnce", numberOfKeys: 5 },
  publishResultOnce: {
    file: "publishResultOnce-4.lua",
    command: "quantumPublishResultOnce",
    numberOfKeys: 4,
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
    /** publishResultOnce-4.lua; use `publishResultOnce()`. */
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
  const read = (name: ApplyScriptName): string => {
    const url = new URL(APPLY_SCRIPTS[name].file, luaDir);
    try {
      const text = readFileSync(url, "utf8");
      if (text.trim() === "") throw new Error("file is empty");
      return text;
    } catch (err) {
      throw new PermitScriptLoadError(fileURLToPath(url), err);
    }
  };
  const sources: ApplyScriptSources = {
    publishPlanOnce: read("publishPlanOnce"),
    publishResultOnce: read("publishResultOnce"),
    acquireLock: read("acquireLock"),
    releaseLock: read("releaseLock"),
  };
  if (isDefault) defaultSources = sources;
  return sources;
}

const registered = new WeakSet<Redis>();

/** Define the Apply Layer scripts as commands on `redis` (idempotent per client). Call at startup. */
export function registerApplyScripts(redis: Redis, opts: { luaDir?: URL } = {}): void {
  if (registered.has(redis)) return;
  const sources = loadApplyScripts(opts.luaDir);
  for (const name of Object.keys(APPLY_SCRIPTS) as ApplyScriptName[]) {
    const { command, numberOfKeys } = APPLY_SCRIPTS[name];
    redis.defineCommand(command, { lua: sources[name], numberOfKeys });
  }
  registered.add(redis);
}
