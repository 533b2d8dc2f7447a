/** An order request that no exchange would accept as built (a caller bug, never sent). */
export class InvalidOrderError extends Error {
  readonly code = "EXCHANGE_INVALID_ORDER";

  constructor(message: string) {
    super(message);
    this.name = "InvalidOrderError";
  }
}
