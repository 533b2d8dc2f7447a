import { errorText } from "@quantum/contracts";
/** A Lua script of this package could not be read at startup (missing file, wrong install layout). */
export class PermitScriptLoadError extends Error {
  readonly code = "PERMIT_SCRIPT_LOAD_FAILED" as const;
  readonly path: string;

  constructor(path: string, cause: unknown) {
    const why = errorText(cause);
    super(`cannot load permit Lua script ${path}: ${why}`, { cause });
    this.name = "PermitScriptLoadError";
    this.path = path;
  }
}
