import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Redis, Result } from "ioredis";
import { ScriptLoadError } from "./script-load-error.js";

/** The Lua scripts of this service; files live in the package's `lua/` dir, next to `src/` and `dist/`. */
export const P35_SCRIPTS = {
  /** Variable key count (3 + buckets): the caller passes numkeys first. */
  applyBatch: { file: "applyBatch.lua", command: "p35ApplyBatch", numberOfKeys: undefined },
  raiseAlert: { file: "raiseAlert-2.lua", command: "p35RaiseAlert", numberOfKeys: 2 },
} as const;

type ScriptName = keyof typeof P35_SCRIPTS;

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
  }
}

/** `lua/` of this package, resolved from the running module (src/*.ts in tests, dist/main.js when built). */
export const LUA_DIR: URL = new URL("../lua/", import.meta.url);

function read(name: ScriptName, dir: URL): string {
  const url = new URL(P35_SCRIPTS[name].file, dir);
  try {
    const text = readFileSync(url, "utf8");
    if (text.trim() === "") throw new Error("file is empty");
    return text;
  } catch (err) {
    throw new ScriptLoadError(fileURLToPath(url), err);
  }
}

const registered = new WeakSet<Redis>();

/**
 * Define the P3.5 scripts as commands on `redis` (EVALSHA with EVAL fallback, by ioredis). Idempotent per
 * client. Throws ScriptLoadError at startup when a file is missing.
 */
export function registerP35Scripts(redis: Redis, dir: URL = LUA_DIR): void {
  if (registered.has(redis)) return;
  for (const name of Object.keys(P35_SCRIPTS) as ScriptName[]) {
    const { command, numberOfKeys } = P35_SCRIPTS[name];
    const lua = read(name, dir);
    redis.defineCommand(command, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys });
  }
  registered.add(redis);
}
