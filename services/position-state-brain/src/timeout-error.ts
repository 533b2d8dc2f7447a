/** Bounded work (an exchange fetch) did not finish in time. */
export class TimeoutError extends Error {
  readonly code = "P33_TIMEOUT";

  constructor(what: string, ms: number) {
    super(`${what} did not finish within ${ms} ms`);
    this.name = "TimeoutError";
  }
}
