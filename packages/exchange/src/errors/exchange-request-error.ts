import type { ExchangeFailure } from "../types.js";

/** A read (positions, rules, position mode, server time) failed; `failure` is the classified reason. */
export class ExchangeRequestError extends Error {
  readonly code = "EXCHANGE_REQUEST_FAILED";
  readonly endpoint: string;
  readonly failure: ExchangeFailure;

  constructor(endpoint: string, failure: ExchangeFailure) {
    super(`${endpoint} failed: ${describeFailure(failure)}`);
    this.name = "ExchangeRequestError";
    this.endpoint = endpoint;
    this.failure = failure;
  }
}

export function describeFailure(f: ExchangeFailure): string {
  switch (f.kind) {
    case "rejected":
    case "fatal":
      return `${f.kind} ${f.code} ${f.msg}`;
    case "rateLimited":
      return `rate limited, retry after ${f.retryAfterMs} ms${f.code !== undefined ? ` (${f.code})` : ""}`;
    case "unknown":
    case "notSent":
      return `${f.kind}: ${f.detail}`;
  }
}
