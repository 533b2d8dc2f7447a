/** An exchange answer that does not have the documented shape. */
export class MalformedResponseError extends Error {
  readonly code = "EXCHANGE_MALFORMED_RESPONSE";

  constructor(message: string) {
    super(message);
    this.name = "MalformedResponseError";
  }
}
