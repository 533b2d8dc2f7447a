import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";
import { LuaScriptLoadError } from "./lua-script-load-error.js";

/**
 * One loader for every package's Lua scripts (permits, P3.3 ledger, P3.5 batches). Scripts live in a `lua/`
 * directory shipped beside `dist/`; each is defined on a client with `defineCommand` (EVALSHA with EVAL
 * fallback). A line `-- @include "name.lua"` is replaced by `lua/includes/name.lua` when the file is read,
 * so a rule shared by several scripts (the kill-switch rule) is written once. Nothing is generated at build time.
 */

export interface LuaScriptSpec {
  /** File name inside the lua dir, e.g. "consumePermits-5.lua". */
  readonly file: string;
  /** The ioredis command name it is defined as. */
  readonly command: string;
  /** Fixed key count; omit for scripts whose caller passes numkeys first. */
  readonly numberOfKeys?: number;
}

/** Error thrown for a missing file is constructed by this factory (packages keep their own error class). */
export type LoadErrorFactory = (path: string, cause: unknown) => Error;

const INCLUDE_RE = /^--\s*@include\s+"([A-Za-z0-9_.-]+\.lua)"\s*$/gm;

function readNonEmpty(url: URL): string {
  const text = readFileSync(url, "utf8");
  if (text.trim() === "") throw new Error("file is empty");
  return text;
}

/** Read one script from `dir`, resolving its `-- @include "x.lua"` lines from `dir/includes/`. */
export function readLuaScript(
  dir: URL,
  file: string,
  onError: LoadErrorFactory = (p, c) => new LuaScriptLoadError(p, c),
): string {
  const url = new URL(file, dir);
  let text: string;
  try {
    text = readNonEmpty(url);
  } catch (err) {
    throw onError(fileURLToPath(url), err);
  }
  return text.replace(INCLUDE_RE, (_line, name: string) => {
    const inc = new URL(`includes/${name}`, dir);
    try {
      return readNonEmpty(inc);
    } catch (err) {
      throw onError(fileURLToPath(inc), err);
    }
  });
}

/** Read every script of a table; throws (via `onError`) naming the first missing or empty file. */
export function loadLuaScripts<K extends string>(
  dir: URL,
  specs: Readonly<Record<K, LuaScriptSpec>>,
  onError?: LoadErrorFactory,
): Readonly<Record<K, string>> {
  const out = {} as Record<K, string>;
  for (const name of Object.keys(specs) as K[]) out[name] = readLuaScript(dir, specs[name].file, onError);
  return out;
}

const defined = new WeakMap<Redis, Set<string>>();

/** Whether every command of `specs` is defined on this client by `defineLuaScripts`. */
export function luaScriptsDefined(redis: Redis, specs: Readonly<Record<string, LuaScriptSpec>>): boolean {
  const set = defined.get(redis);
  return set !== undefined && Object.values(specs).every((s) => set.has(s.command));
}

/**
 * Define every script of a table on `redis` from already loaded sources. Idempotent per client and command;
 * all sources are read before anything is defined, so a broken install defines nothing.
 */
export function defineLuaScripts<K extends string>(
  redis: Redis,
  specs: Readonly<Record<K, LuaScriptSpec>>,
  sources: Readonly<Record<K, string>>,
): void {
  let set = defined.get(redis);
  if (set === undefined) {
    set = new Set();
    defined.set(redis, set);
  }
  for (const name of Object.keys(specs) as K[]) {
    const { command, numberOfKeys } = specs[name];
    if (set.has(command)) continue;
    const lua = sources[name];
    redis.defineCommand(command, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys });
    set.add(command);
  }
}
