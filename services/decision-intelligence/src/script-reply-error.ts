/** A Lua script answered something its wrapper does not know (a bug or a foreign key type). */
export class ScriptReplyError extends Error {
  readonly code = "P35_SCRIPT_REPLY" as const;
  readonly script: string;

  constructor(script: string, problem: string) {
    super(`${script}: ${problem}`);
    this.name = "ScriptReplyError";
    this.script = script;
  }
}
