/** A Lua script of this service could not be read at startup (missing file, wrong install layout). */
export class ScriptLoadError extends Error {
  readonly code = "P35_SCRIPT_LOAD_FAILED" as const;
  readonly path: string;

  constructor(path: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`cannot load P3.5 Lua script ${path}: ${why}`, { cause });
    this.name = "ScriptLoadError";
    this.path = path;
  }
}
