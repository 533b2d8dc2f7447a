/** An apply.result entry P3.5 cannot count (not a field map, a malformed symbol, an oversized field, no time). */
export class NormalizeError extends Error {
  readonly code = "p35_malformed_result" as const;
  /** The offending wire field, or `$` for the entry as a whole. */
  readonly field: string;
  readonly problem: string;

  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = "NormalizeError";
    this.field = field;
    this.problem = problem;
  }
}
