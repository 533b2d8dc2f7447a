/** A field map or JSON value that does not match its schema. Decoders return it; they never throw it. */
export class DecodeError extends Error {
  readonly code = "decode_error" as const;
  /** Wire name of the offending field (`kill_score`, `safe_qty`), or `$` for the value as a whole. */
  readonly field: string;
  /** What is wrong with the field, without the field name (`not a number`). */
  readonly problem: string;
  /** `<field>: <problem>`. */
  override readonly message: string;

  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = "DecodeError";
    this.field = field;
    this.problem = problem;
    this.message = `${field}: ${problem}`;
  }
}
