import { createHmac } from "node:crypto";
import { USDMClient } from "binance";
import {
  parseAlgoCancel,
  parseAlgoOrder,
  parseExchangeInfo,
  parseOrder,
  parsePositionMode,
  parsePositions,
  parseServerTime,
  placedOutcome,
} from "./binance-parse.js";
import {
  BINANCE_ENDPOINT_COSTS,
  BINANCE_USDM_LIMITS,
  type BinanceEndpoint,
  type BinanceLimitName,
  binanceLimitCounts,
} from "./binance-rate-limits.js";
import type { BinanceUsdmExchangeOptions } from "./binance-usdm-options.js";
import { classifyError } from "./classify.js";
import { ExchangeConfigError } from "./errors/exchange-config-error.js";
import { ExchangeRequestError } from "./errors/exchange-request-error.js";
import { type LiveVenue, resolveBaseUrl } from "./host-allowlist.js";
import { validateOrderRequest } from "./order-request.js";
import { SymbolRulesCache } from "./symbol-rules-cache.js";
import {
  type CancelResult,
  type Exchange,
  type ExchangeFailure,
  type ExchangeObserver,
  type ExchangePosition,
  NOOP_OBSERVER,
  type OrderLookupOptions,
  type OrderOutcome,
  type OrderQueryResult,
  type OrderRequest,
  observedOutcome,
  type PositionMode,
  type SendOptions,
  type SymbolRules,
} from "./types.js";
import { VenueThrottle } from "./venue-throttle.js";

type Endpoint = BinanceEndpoint;

type CallResult = { ok: true; data: unknown } | { ok: false; failure: ExchangeFailure; code: number | null };

const NOT_FOUND_CODES: readonly number[] = [-2013];
const NOT_OPEN_CODES: readonly number[] = [-2011, -2013];

function positiveInt(name: string, v: number | undefined, fallback: number): number {
  const n = v ?? fallback;
  if (!Number.isInteger(n) || n <= 0)
    throw new ExchangeConfigError("EXCHANGE_OPTION_INVALID", `${name} must be a positive integer`);
  return n;
}

function parseJsonBody(data: unknown): unknown {
  if (typeof data !== "string" || data === "") return data;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

/**
 * Binance USDⓈ-M Futures through the `binance` package's USDMClient. Every call has a timeout; signed
 * calls use a clock offset from /fapi/v1/time (one resync + one retry on -1021); order ids are always
 * ours (the library's id generation and its console warning are bypassed by calling its signed POST
 * directly); errors come back classified fail-safe (see classifyError). Every call first acquires from the
 * throttle, which keeps the process within its share of the venue's order and weight limits (corrected from
 * the X-MBX-* headers) and holds all calls while a 429/418 Retry-After runs; a call that cannot go within the
 * wait bound comes back rateLimited without being sent.
 */
export class BinanceUsdmExchange implements Exchange {
  readonly venue: LiveVenue;
  /** Binance refuses a repeated client id only while its order is open (a filled MARKET id fills again). */
  readonly placesClientIdOnce = false;
  readonly baseUrl: string;
  private readonly client: USDMClient;
  private readonly secrets: readonly string[];
  private readonly observer: ExchangeObserver;
  private readonly rules: SymbolRulesCache;
  private readonly clockSyncIntervalMs: number;
  private clockSyncedAt = 0;
  private clockSync: Promise<
    { ok: true; serverTime: number } | { ok: false; failure: ExchangeFailure }
  > | null = null;
  /** The local rate gate (read its state() for metrics). */
  readonly throttle: VenueThrottle<BinanceLimitName>;

  constructor(opts: BinanceUsdmExchangeOptions) {
    if (opts.apiKey.trim() === "" || opts.apiSecret.trim() === "") {
      throw new ExchangeConfigError(
        "EXCHANGE_MISSING_CREDENTIALS",
        `${opts.venue} exchange needs an API key and secret`,
      );
    }
    this.venue = opts.venue;
    this.baseUrl = resolveBaseUrl(opts.venue, opts.baseUrl, opts.allowLoopback ?? false);
    this.secrets = [opts.apiKey, opts.apiSecret];
    this.observer = opts.observer ?? NOOP_OBSERVER;
    this.clockSyncIntervalMs = positiveInt("clockSyncIntervalMs", opts.clockSyncIntervalMs, 15 * 60_000);
    const timeout = positiveInt("timeoutMs", opts.timeoutMs, 5_000);
    const recvWindow = positiveInt("recvWindowMs", opts.recvWindowMs, 5_000);
    this.throttle = new VenueThrottle({
      limits: opts.rateLimits ?? BINANCE_USDM_LIMITS,
      ...(opts.rateLimitSharePct !== undefined ? { sharePct: opts.rateLimitSharePct } : {}),
      ...(opts.rateLimitMaxWaitMs !== undefined ? { maxWaitMs: opts.rateLimitMaxWaitMs } : {}),
    });
    const onResponse = (data: unknown, headers: unknown): unknown => {
      const counts = binanceLimitCounts(headers);
      for (const [name, count] of Object.entries(counts) as [BinanceLimitName, number][])
        this.throttle.observe(name, count);
      const { weight1m, orders1m } = counts;
      if (weight1m !== undefined || orders1m !== undefined)
        this.observer.rateLimitHeaders(weight1m ?? null, orders1m ?? null);
      return parseJsonBody(data);
    };
    this.client = new USDMClient(
      {
        api_key: opts.apiKey,
        api_secret: opts.apiSecret,
        baseUrl: this.baseUrl,
        recvWindow,
        disableTimeSync: true,
        parseExceptions: false,
        beautifyResponses: false,
        customSignMessageFn: async (message, secret) =>
          createHmac("sha256", secret).update(message).digest("hex"),
      },
      { timeout, transformResponse: [onResponse] },
    );
    this.rules = new SymbolRulesCache(() => this.fetchRules(), {
      ttlMs: positiveInt("exchangeInfoTtlMs", opts.exchangeInfoTtlMs, 10 * 60_000),
      retryMs: 30_000,
    });
  }

  async getPositions(): Promise<ExchangePosition[]> {
    const r = await this.call("positions", true, () => this.client.getPrivate("fapi/v2/positionRisk"));
    return this.parsed("positions", r, parsePositions);
  }

  getSymbolRules(symbol: string): Promise<SymbolRules | null> {
    return this.rules.get(symbol);
  }

  async getPositionMode(): Promise<PositionMode> {
    const r = await this.call("position_mode", true, () =>
      this.client.getPrivate("fapi/v1/positionSide/dual"),
    );
    return this.parsed("position_mode", r, parsePositionMode);
  }

  async serverTime(): Promise<number> {
    const r = await this.syncClock();
    if (!r.ok) throw new ExchangeRequestError("server_time", r.failure);
    return r.serverTime;
  }

  async placeOrder(order: OrderRequest, send: SendOptions = {}): Promise<OrderOutcome> {
    validateOrderRequest(order);
    const common = {
      symbol: order.symbol,
      side: order.side,
      ...(order.positionSide !== undefined ? { positionSide: order.positionSide } : {}),
    };
    if (order.type === "MARKET") {
      const params = {
        ...common,
        type: "MARKET",
        quantity: order.quantity,
        ...(order.reduceOnly === true ? { reduceOnly: "true" } : {}),
        newClientOrderId: order.clientOrderId,
        newOrderRespType: "RESULT",
      };
      const r = await this.call(
        "new_order",
        true,
        () => this.client.postPrivate("fapi/v1/order", params),
        [],
        send,
      );
      return this.outcome(r, parseOrder);
    }
    const params = {
      ...common,
      algoType: "CONDITIONAL",
      type: "STOP_MARKET",
      triggerPrice: order.stopPrice,
      workingType: "MARK_PRICE",
      ...(order.closePosition === true
        ? { closePosition: "true" }
        : { quantity: order.quantity, ...(order.reduceOnly === true ? { reduceOnly: "true" } : {}) }),
      clientAlgoId: order.clientOrderId,
    };
    const r = await this.call(
      "new_algo_order",
      true,
      () => this.client.postPrivate("fapi/v1/algoOrder", params),
      [],
      send,
    );
    return this.outcome(r, parseAlgoOrder);
  }

  async getOrder(
    symbol: string,
    clientOrderId: string,
    opts: OrderLookupOptions = {},
  ): Promise<OrderQueryResult> {
    const r =
      opts.conditional === true
        ? await this.call(
            "query_algo_order",
            true,
            () => this.client.getPrivate("fapi/v1/algoOrder", { clientAlgoId: clientOrderId }),
            NOT_FOUND_CODES,
            opts,
          )
        : await this.call(
            "query_order",
            true,
            () => this.client.getPrivate("fapi/v1/order", { symbol, origClientOrderId: clientOrderId }),
            NOT_FOUND_CODES,
            opts,
          );
    if (!r.ok) return r.code !== null && NOT_FOUND_CODES.includes(r.code) ? { kind: "notFound" } : r.failure;
    try {
      return {
        kind: "found",
        order: opts.conditional === true ? parseAlgoOrder(r.data) : parseOrder(r.data),
      };
    } catch (err) {
      return { kind: "unknown", detail: `malformed order response: ${(err as Error).message}` };
    }
  }

  async cancelOrder(
    symbol: string,
    clientOrderId: string,
    opts: OrderLookupOptions = {},
  ): Promise<CancelResult> {
    const r =
      opts.conditional === true
        ? await this.call(
            "cancel_algo_order",
            true,
            () => this.client.deletePrivate("fapi/v1/algoOrder", { clientAlgoId: clientOrderId }),
            NOT_OPEN_CODES,
            opts,
          )
        : await this.call(
            "cancel_order",
            true,
            () => this.client.deletePrivate("fapi/v1/order", { symbol, origClientOrderId: clientOrderId }),
            NOT_OPEN_CODES,
            opts,
          );
    if (!r.ok) return r.code !== null && NOT_OPEN_CODES.includes(r.code) ? { kind: "notOpen" } : r.failure;
    try {
      const ids = opts.conditional === true ? parseAlgoCancel(r.data) : parseOrder(r.data);
      return { kind: "canceled", orderId: ids.orderId, clientOrderId: ids.clientOrderId };
    } catch (err) {
      return { kind: "unknown", detail: `malformed cancel response: ${(err as Error).message}` };
    }
  }

  private outcome(r: CallResult, parse: (data: unknown) => ReturnType<typeof parseOrder>): OrderOutcome {
    if (!r.ok) return r.failure;
    try {
      return placedOutcome(parse(r.data));
    } catch (err) {
      return { kind: "unknown", detail: `malformed order response: ${(err as Error).message}` };
    }
  }

  private parsed<T>(endpoint: Endpoint, r: CallResult, parse: (data: unknown) => T): T {
    if (!r.ok) throw new ExchangeRequestError(endpoint, r.failure);
    try {
      return parse(r.data);
    } catch (err) {
      throw new ExchangeRequestError(endpoint, {
        kind: "unknown",
        detail: `malformed response: ${(err as Error).message}`,
      });
    }
  }

  private async fetchRules(): Promise<Map<string, SymbolRules>> {
    const r = await this.call("exchange_info", false, () => this.client.getExchangeInfo());
    return this.parsed("exchange_info", r, parseExchangeInfo);
  }

  /** GET /fapi/v1/time and set the offset (shared when concurrent; the first caller's wait bounds apply). */
  private syncClock(
    send: SendOptions = {},
  ): Promise<{ ok: true; serverTime: number } | { ok: false; failure: ExchangeFailure }> {
    if (this.clockSync === null) {
      this.clockSync = (async () => {
        const t0 = Date.now();
        const r = await this.call("server_time", false, () => this.client.get("fapi/v1/time"), [], send);
        if (!r.ok) return { ok: false as const, failure: r.failure };
        let serverTime: number;
        try {
          serverTime = parseServerTime(r.data);
        } catch (err) {
          return {
            ok: false as const,
            failure: { kind: "unknown" as const, detail: (err as Error).message },
          };
        }
        const t1 = Date.now();
        this.client.setTimeOffset(serverTime - Math.round((t0 + t1) / 2));
        this.clockSyncedAt = t1;
        return { ok: true as const, serverTime };
      })().finally(() => {
        this.clockSync = null;
      });
    }
    return this.clockSync;
  }

  /** null when the clock is usable; otherwise why the signed request was not sent. */
  private async ensureClock(force: boolean, send: SendOptions): Promise<ExchangeFailure | null> {
    if (!force && this.clockSyncedAt > 0 && Date.now() - this.clockSyncedAt < this.clockSyncIntervalMs)
      return null;
    const r = await this.syncClock(send);
    if (r.ok) return null;
    const f = r.failure;
    if (f.kind === "rateLimited" || f.kind === "fatal") return f;
    const why = f.kind === "rejected" ? `${f.code} ${f.msg}` : f.detail;
    return { kind: "notSent", detail: `clock sync failed: ${why}` };
  }

  /**
   * One REST call: clock sync (signed), the throttle (a refused wait returns unsent), classification,
   * observer reports, and exactly one resync + retry on -1021. `quietCodes` are expected answers (not
   * found) reported as ok.
   */
  private async call(
    endpoint: Endpoint,
    signed: boolean,
    fn: () => Promise<unknown>,
    quietCodes: readonly number[] = [],
    send: SendOptions = {},
  ): Promise<CallResult> {
    for (let attempt = 0; ; attempt++) {
      if (signed) {
        const clock = await this.ensureClock(attempt > 0, send);
        if (clock !== null) return { ok: false, failure: clock, code: null };
      }
      const permit = await this.throttle.acquire(BINANCE_ENDPOINT_COSTS[endpoint], send);
      if (!permit.ok) {
        const failure: ExchangeFailure =
          permit.reason === "aborted"
            ? { kind: "notSent", detail: "aborted while waiting for the venue's rate limits" }
            : { kind: "rateLimited", retryAfterMs: permit.retryAfterMs };
        return { ok: false, failure, code: null };
      }
      const t0 = performance.now();
      try {
        const data = await fn();
        permit.settle();
        this.observer.request(endpoint, "ok", (performance.now() - t0) / 1000);
        return { ok: true, data };
      } catch (err) {
        permit.settle();
        const seconds = (performance.now() - t0) / 1000;
        const c = classifyError(err, this.secrets);
        const quiet = c.code !== null && quietCodes.includes(c.code);
        this.observer.request(endpoint, quiet ? "ok" : observedOutcome(c.failure.kind), seconds);
        if (c.failure.kind === "rateLimited") {
          this.throttle.block(c.failure.retryAfterMs);
          this.observer.rateLimited(c.failure.retryAfterMs);
        }
        if (signed && c.code === -1021 && attempt === 0) continue;
        return { ok: false, failure: c.failure, code: c.code };
      }
    }
  }
}
