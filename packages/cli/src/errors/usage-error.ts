/** The operator asked for something invalid or refused (exit code 2). */
export class UsageError extends Error {
  readonly code: string;

  constructor(message: string, code = "usage_error") {
    super(message);
    this.name = "UsageError";
    this.code = code;
  }
}
