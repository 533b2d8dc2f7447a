/** A Binance-style error answer `{code, msg}` with its HTTP status, thrown by the fake's handlers. */
export class FakeApiError extends Error {
  readonly code: number;
  readonly status: number;

  constructor(code: number, msg: string, status = 400) {
    super(msg);
    this.name = "FakeApiError";
    this.code = code;
    this.status = status;
  }
}

/** Binance's messages for the codes the fake answers (USDⓈ-M error code page). */
export const errors = {
  missingParam: (name: string) =>
    new FakeApiError(-1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`),
  notRequired: (name: string) => new FakeApiError(-1106, `Parameter '${name}' sent when not required.`),
  illegalChars: (name: string) =>
    new FakeApiError(
      -1100,
      `Illegal characters found in parameter '${name}'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.`,
    ),
  invalidSymbol: () => new FakeApiError(-1121, "Invalid symbol."),
  invalidSide: () => new FakeApiError(-1117, "Invalid side."),
  invalidOrderType: () => new FakeApiError(-1116, "Invalid orderType."),
  useAlgoApi: () =>
    new FakeApiError(
      -4120,
      "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.",
    ),
  badPrecision: () => new FakeApiError(-1111, "Precision is over the maximum defined for this asset."),
  badTick: () => new FakeApiError(-4014, "Price not increased by tick size."),
  qtyNotPositive: () => new FakeApiError(-4003, "Quantity less than or equal to zero."),
  qtyBelowMin: () => new FakeApiError(-4004, "Quantity less than min quantity."),
  qtyAboveMax: () => new FakeApiError(-4005, "Quantity greater than max quantity."),
  reduceOnlyRejected: () => new FakeApiError(-2022, "ReduceOnly Order is rejected."),
  minNotional: (notional: string) =>
    new FakeApiError(
      -4164,
      `Order's notional must be no smaller than ${notional} (unless you choose reduce only).`,
    ),
  positionSideMismatch: () => new FakeApiError(-4061, "Order's position side does not match user's setting."),
  duplicateClientId: () => new FakeApiError(-4116, "ClientOrderId is duplicated."),
  noSuchOrder: () => new FakeApiError(-2013, "Order does not exist."),
  cancelRejected: () => new FakeApiError(-2011, "Unknown order sent."),
  badApiKeyFormat: () => new FakeApiError(-2014, "API-key format invalid.", 401),
  rejectedApiKey: () => new FakeApiError(-2015, "Invalid API-key, IP, or permissions for action.", 401),
  badSignature: () => new FakeApiError(-1022, "Signature for this request is not valid."),
  outsideRecvWindow: () =>
    new FakeApiError(-1021, "Timestamp for this request is outside of the recvWindow."),
  aheadOfServer: () =>
    new FakeApiError(-1021, "Timestamp for this request was 1000ms ahead of the server's time."),
  notFound: () => new FakeApiError(-1099, "Not found, unauthenticated, or unauthorized.", 404),
} as const;
