/** A bad command line of the stack supervisor (exit code 2). */
export class StackUsageError extends Error {
  readonly code = "stack_usage";

  constructor(message: string) {
    super(message);
    this.name = "StackUsageError";
  }
}
