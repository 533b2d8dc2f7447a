/** The stack could not be brought up (redis-server missing, a service never became healthy, ...). */
export class StackStartError extends Error {
  readonly code = "stack_start_failed";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StackStartError";
  }
}
