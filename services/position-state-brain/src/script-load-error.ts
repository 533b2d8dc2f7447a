/** A Lua script of this service could not be read at startup (broken install). */
export class ScriptLoadError extends Error {
  readonly code = "P33_SCRIPT_LOAD_FAILED";
  readonly path: string;

  constructor(path: string, cause: unknown) {
    super(`cannot load Lua script ${path}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "ScriptLoadError";
    this.path = path;
  }
}
