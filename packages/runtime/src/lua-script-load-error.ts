import { errorText } from "@quantum/contracts";
/** A Lua script could not be read at startup (missing or empty file, broken include, wrong install layout). */
export class LuaScriptLoadError extends Error {
  readonly code = "LUA_SCRIPT_LOAD_FAILED" as const;
  readonly path: string;

  constructor(path: string, cause: unknown) {
    const why = errorText(cause);
    super(`cannot load Lua script ${path}: ${why}`, { cause });
    this.name = "LuaScriptLoadError";
    this.path = path;
  }
}
