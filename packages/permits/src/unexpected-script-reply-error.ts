/** A permit script returned something its decoder does not know (version skew or a bug). */
export class UnexpectedScriptReplyError extends Error {
  readonly code = "UNEXPECTED_SCRIPT_REPLY" as const;
  readonly script: string;
  readonly reply: unknown;

  constructor(script: string, reply: unknown) {
    super(`unexpected reply from ${script}: ${safeStringify(reply)}`);
    this.name = "UnexpectedScriptReplyError";
    this.script = script;
    this.reply = reply;
  }
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
