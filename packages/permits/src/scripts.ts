import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Redis, Result } from "ioredis";
import { PermitScriptLoadError } from "./permit-script-load-error.js";

/**
 * The Lua scripts of this package: file name (what it does + number of keys), the ioredis command name it
 * is defined as, and its key count. Files live in the package's `lua/` dir, next to `dist/` and `src/`.
 */
export const PERMIT_SCRIPTS = {
  consumePermits: { file: "consumePermits-5.lua", command: "quantumConsumePermits", numberOfKeys: 5 },
  claimExecution: { file: "claimExecution-3.lua", command: "quantumClaimExecution", numberOfKeys: 3 },
  transitionExec: { file: "transitionExec-1.lua", command: "quantumTransitionExec", numberOfKeys: 1 },
} as const;

export type PermitScriptName = keyof typeof PERMIT_SCRIPTS;
export type PermitScriptSources = Readonly<Record<PermitScriptName, string>>;

declare module "ioredis" {
  interface RedisCommander<Context> {
    /** consumePermits-5.lua; use `consumePermits()` instead of calling this directly. */
    quantumConsumePermits(
      governorPermitKey: string,
      p33PermitKey: string,
      killSwitchKey: string,
      tradingStateKey: string,
      execRecordKey: string,
      nowMs: string,
      missingKillSwitchHalts: "0" | "1",
      execRecordTtlSec: string,
      planId: string,
      symbol: string,
    ): Result<unknown, Context>;
    /** claimExecution-3.lua; use `claimExecution()` instead of calling this directly. */
    quantumClaimExecution(
      killSwitchKey: string,
      tradingStateKey: string,
      execRecordKey: string,
      nowMs: string,
      missingKillSwitchHalts: "0" | "1",
      execRecordTtlSec: string,
      planId: string,
      symbol: string,
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

/**
 * Read every script from `luaDir` (default: this package's `lua/`). Throws `PermitScriptLoadError` naming the
 * file when one is missing or unreadable, so a broken install fails at startup, not at the first plan.
 */
export function loadPermitScripts(luaDir: URL = DEFAULT_LUA_DIR): PermitScriptSources {
  const isDefault = luaDir.href === DEFAULT_LUA_DIR.href;
  if (isDefault && defaultSources !== null) return defaultSources;
  const read = (name: PermitScriptName): string => {
    const url = new URL(PERMIT_SCRIPTS[name].file, luaDir);
    try {
      const text = readFileSync(url, "utf8");
      if (text.trim() === "") throw new Error("file is empty");
      return text;
    } catch (err) {
      throw new PermitScriptLoadError(fileURLToPath(url), err);
    }
  };
  const sources: PermitScriptSources = {
    consumePermits: read("consumePermits"),
    claimExecution: read("claimExecution"),
    transitionExec: read("transitionExec"),
  };
  if (isDefault) defaultSources = sources;
  return sources;
}

const registered = new WeakSet<Redis>();

/**
 * Define the permit scripts as commands on `redis` (EVALSHA with an EVAL fallback, handled by ioredis).
 * Idempotent per client: a second call on the same client is a no-op. Call it at startup to fail fast.
 */
export function registerPermitScripts(redis: Redis, opts: { luaDir?: URL } = {}): void {
  if (registered.has(redis)) return;
  const sources = loadPermitScripts(opts.luaDir);
  for (const name of Object.keys(PERMIT_SCRIPTS) as PermitScriptName[]) {
    const { command, numberOfKeys } = PERMIT_SCRIPTS[name];
    redis.defineCommand(command, { lua: sources[name], numberOfKeys });
  }
  registered.add(redis);
}

/** True once `registerPermitScripts` has run on this client. */
export function permitScriptsRegistered(redis: Redis): boolean {
  return registered.has(redis);
}
