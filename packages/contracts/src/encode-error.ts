/** An encoder was given a value its own decoder would reject (a programming error in the producer). */
export class EncodeError extends Error {
  readonly code = "encode_error" as const;
  /** Wire name of the offending field, or `$` for the value as a whole. */
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "EncodeError";
    this.field = field;
  }
}
