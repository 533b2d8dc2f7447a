import { defineLuaScripts, loadLuaScripts, luaScriptsDefined } from "@quantum/runtime";
import type { Redis, Result } from "ioredis";
import { PermitScriptLoadError } from "./permit-script-load-error.js";

/**
 * The Lua scripts of this package: file name (what it does + number of keys), the ioredis command name it
 * is defined as, and its key count. Files live in the package's `lua/` dir, next to `dist/` and `src/`.
 */
export const PERMIT_SCRIPTS = {
  consumePermits: { file: "consumePermits-6.lua", command: "quantumConsumePermits", numberOfKeys: 6 },
  claimExecution: { file: "claimExecution-4.lua", command: "quantumClaimExecution", numberOfKeys: 4 },
  transitionExec: { file: "transitionExec-1.lua", command: "quantumTransitionExec", numberOfKeys: 1 },
  beginSubmit: { file: "beginSubmit-5.lua", command: "quantumBeginSubmit", numberOfKeys: 5 },
} as const;

export type PermitScriptName = keyof typeof PERMIT_SCRIPTS;
export type PermitScriptSources = Readonly<Record<PermitScriptName, string>>;

declare module "ioredis" {
  interface RedisCommander<Context> {
    /** consumePermits-6.lua; use `consumePermits()` instead of calling this directly. */
    quantumConsumePermits(
      governorPermitKey: string,
      p33PermitKey: string,
      killSwitchKey: string,
      tradingStateKey: string,
      execRecordKey: string,
      execOpenKey: string,
      nowMs: string,
      missingKillSwitchHalts: "0" | "1",
      execRecordTtlSec: string,
      planId: string,
      symbol: string,
    ): Result<unknown, Context>;
    /** claimExecution-4.lua; use `claimExecution()` instead of calling this directly. */
    quantumClaimExecution(
      killSwitchKey: string,
      tradingStateKey: string,
      execRecordKey: string,
      execOpenKey: string,
      nowMs: string,
      missingKillSwitchHalts: "0" | "1",
      execRecordTtlSec: string,
      planId: string,
      symbol: string,
    ): Result<unknown, Context>;
    /** beginSubmit-5.lua; use `beginSubmit()` instead of calling this directly. */
    quantumBeginSubmit(
      execRecordKey: string,
      killSwitchKey: string,
      tradingStateKey: string,
      submittingKey: string,
      symbolLockKey: string,
      nowMs: string,
      missingKillSwitchHalts: "0" | "1",
      planId: string,
      expectedStates: string,
      lockToken: string,
      ...fieldValuePairs: string[]
    ): Result<unknown, Context>;
    /** transitionExec-1.lua; use `transitionExec()` instead of calling this directly. */
    quantumTransitionExec(
      execRecordKey: string,
      expectedStates: string,
      newState: string,
      nowMs: string,
      ...fieldValuePairs: string[]
    ): Result<unknown, Context>;
  }
}

/** `lua/` of this package, resolved from the running module (src/*.ts in tests, dist/index.js when built). */
export const DEFAULT_LUA_DIR: URL = new URL("../lua/", import.meta.url);

let defaultSources: PermitScriptSources | null = null;

const loadError = (path: string, cause: unknown): Error => new PermitScriptLoadError(path, cause);

/**
 * Read every script from `luaDir` (default: this package's `lua/`). Throws `PermitScriptLoadError` naming the
 * file when one is missing or unreadable, so a broken install fails at startup, not at the first plan.
 */
export function loadPermitScripts(luaDir: URL = DEFAULT_LUA_DIR): PermitScriptSources {
  const isDefault = luaDir.href === DEFAULT_LUA_DIR.href;
  if (isDefault && defaultSources !== null) return defaultSources;
  const sources = loadLuaScripts(luaDir, PERMIT_SCRIPTS, loadError);
  if (isDefault) defaultSources = sources;
  return sources;
}

/**
 * Define the permit scripts as commands on `redis` (EVALSHA with an EVAL fallback, handled by ioredis).
 * Idempotent per client: a second call on the same client is a no-op. Call it at startup to fail fast.
 */
export function registerPermitScripts(redis: Redis, opts: { luaDir?: URL } = {}): void {
  if (luaScriptsDefined(redis, PERMIT_SCRIPTS)) return;
  defineLuaScripts(redis, PERMIT_SCRIPTS, loadPermitScripts(opts.luaDir));
}

/** True once `registerPermitScripts` has run on this client. */
export function permitScriptsRegistered(redis: Redis): boolean {
  return luaScriptsDefined(redis, PERMIT_SCRIPTS);
}
