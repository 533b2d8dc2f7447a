/** The Apply Layer met a state it cannot act on (no exchange in dry_run, a malformed execution record). */
export class ApplyStateError extends Error {
  readonly code: "APPLY_NO_EXCHANGE" | "APPLY_RECORD_MALFORMED";

  constructor(code: ApplyStateError["code"], message: string) {
    super(message);
    this.name = "ApplyStateError";
    this.code = code;
  }
}
