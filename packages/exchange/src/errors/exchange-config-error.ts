export type ExchangeConfigErrorCode =
  | "EXCHANGE_HOST_NOT_ALLOWED"
  | "EXCHANGE_BASE_URL_INVALID"
  | "EXCHANGE_MISSING_CREDENTIALS"
  | "EXCHANGE_MISSING_REDIS"
  | "EXCHANGE_OPTION_INVALID";

/** The exchange cannot be built from this configuration (thrown by constructors and createExchange). */
export class ExchangeConfigError extends Error {
  readonly code: ExchangeConfigErrorCode;

  constructor(code: ExchangeConfigErrorCode, message: string) {
    super(message);
    this.name = "ExchangeConfigError";
    this.code = code;
  }
}
