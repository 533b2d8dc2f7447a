import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";
import { LuaScriptLoadError } from "./lua-script-load-error.js";

/**
 * The one loader for every package's Lua scripts. Each package keeps its scripts in its own `lua/` directory
 * (shipped beside `dist/`) and describes them in ONE table (`luaScriptTable`). A service passes the tables of
 * everything it runs to `loadScripts` once at startup, before it starts work; a missing or empty file throws
 * `LuaScriptLoadError` there, so a broken install refuses to start instead of failing at the first plan.
 *
 * One naming scheme, derived from the table key so it cannot drift:
 * - file:    `<name>-<number of keys>.lua`, or `<name>.lua` when the caller passes the key count first;
 * - command: `quantum<Name>` (the ioredis method, EVALSHA with an EVAL fallback).
 * A line `-- @include "x.lua"` is replaced by `lua/includes/x.lua` when the file is read, so a rule shared by
 * several scripts (the kill-switch rule) is written once. Nothing is generated at build time.
 */

export interface LuaScriptSpec {
  /** Fixed key count; omit for a script whose caller passes numkeys first. */
  readonly numberOfKeys?: number;
}

/** The scripts of one package and the directory that holds them. */
export interface LuaScriptTable<K extends string = string> {
  /** The package's `lua/` directory (its `includes/` subdirectory holds shared fragments). */
  readonly dir: URL;
  readonly scripts: Readonly<Record<K, LuaScriptSpec>>;
}

/** A package's script table; `dir` is usually `new URL("../lua/", import.meta.url)` from a module in src/. */
export function luaScriptTable<K extends string>(
  dir: URL,
  scripts: Readonly<Record<K, LuaScriptSpec>>,
): LuaScriptTable<K> {
  return { dir, scripts };
}

/** File name of a script: `<name>-<keys>.lua`, or `<name>.lua` for a variable key count. */
export function luaScriptFile(name: string, spec: LuaScriptSpec): string {
  return spec.numberOfKeys === undefined ? `${name}.lua` : `${name}-${spec.numberOfKeys}.lua`;
}

/** Command name a script is defined as on a client: `quantum<Name>`. */
export function luaCommandName<K extends string>(name: K): `quantum${Capitalize<K>}` {
  return `quantum${name.charAt(0).toUpperCase()}${name.slice(1)}` as `quantum${Capitalize<K>}`;
}

const INCLUDE_RE = /^--\s*@include\s+"([A-Za-z0-9_.-]+\.lua)"\s*$/gm;

function readNonEmpty(url: URL): string {
  let text: string;
  try {
    text = readFileSync(url, "utf8");
    if (text.trim() === "") throw new Error("file is empty");
  } catch (err) {
    throw new LuaScriptLoadError(fileURLToPath(url), err);
  }
  return text;
}

/** Read one script from `dir`, resolving its `-- @include "x.lua"` lines from `dir/includes/`. */
export function readLuaScript(dir: URL, file: string): string {
  return readNonEmpty(new URL(file, dir)).replace(INCLUDE_RE, (_line, name: string) =>
    readNonEmpty(new URL(`includes/${name}`, dir)),
  );
}

/** Read every script of a table; throws `LuaScriptLoadError` naming the first missing or empty file. */
export function readLuaScripts<K extends string>(table: LuaScriptTable<K>): Readonly<Record<K, string>> {
  const out = {} as Record<K, string>;
  for (const name of Object.keys(table.scripts) as K[]) {
    out[name] = readLuaScript(table.dir, luaScriptFile(name, table.scripts[name]));
  }
  return out;
}

/** Per client: command name → the source it was defined with. */
const defined = new WeakMap<Redis, Map<string, string>>();

/** Whether every script of `table` is defined on this client by `loadScripts`. */
export function scriptsLoaded(redis: Redis, table: LuaScriptTable): boolean {
  const commands = defined.get(redis);
  return (
    commands !== undefined && Object.keys(table.scripts).every((name) => commands.has(luaCommandName(name)))
  );
}

/**
 * Read every script of `tables` and define each as a command on `redis`. All files are read before anything
 * is defined, so a broken install defines nothing and throws `LuaScriptLoadError` naming the file. Calling it
 * again with the same tables is a no-op; two tables defining one command name with different sources throw.
 */
export function loadScripts(redis: Redis, tables: readonly LuaScriptTable[]): void {
  const wanted = new Map<string, { lua: string; numberOfKeys: number | undefined; from: string }>();
  for (const table of tables) {
    const sources = readLuaScripts(table);
    for (const [name, spec] of Object.entries(table.scripts)) {
      const command = luaCommandName(name);
      const lua = sources[name] ?? "";
      const from = fileURLToPath(new URL(luaScriptFile(name, spec), table.dir));
      const other = wanted.get(command) ?? null;
      if (other !== null && other.lua !== lua) {
        throw new Error(`Lua command ${command} is defined twice: ${other.from} and ${from}`);
      }
      wanted.set(command, { lua, numberOfKeys: spec.numberOfKeys, from });
    }
  }
  let commands = defined.get(redis);
  if (commands === undefined) {
    commands = new Map();
    defined.set(redis, commands);
  }
  for (const [command, { lua, numberOfKeys, from }] of wanted) {
    const had = commands.get(command);
    if (had === lua) continue;
    if (had !== undefined)
      throw new Error(`Lua command ${command} is already defined from another file (${from})`);
    redis.defineCommand(command, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys });
    commands.set(command, lua);
  }
}
