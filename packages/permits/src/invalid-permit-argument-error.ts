/** A caller passed an argument the permit scripts must never see (empty plan id, TTL <= 0, ...). */
export class InvalidPermitArgumentError extends Error {
  readonly code = "INVALID_PERMIT_ARGUMENT" as const;
  readonly argument: string;

  constructor(argument: string, message: string) {
    super(`${argument}: ${message}`);
    this.name = "InvalidPermitArgumentError";
    this.argument = argument;
  }
}
