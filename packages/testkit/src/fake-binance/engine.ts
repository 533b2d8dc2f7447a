import { errors } from "./api-error.js";
import { absDec, dec, decimalsOf, divDec, formatDec, isMultipleOf, mulDec, parseDec } from "./fixed.js";
import type { FakeOrder, FakePosition, FakePositionSide, FakeSymbolSpec } from "./types.js";

/** Request parameters as decoded from the query string (and body). */
export type Params = Readonly<Record<string, string>>;

interface PositionState {
  amt: bigint;
  entry: bigint;
  leverage: number;
}

export interface SymbolState {
  spec: FakeSymbolSpec;
  /** Scaled MARKET_LOT_SIZE values. */
  step: bigint;
  minQty: bigint;
  maxQty: bigint;
  tick: bigint;
  minNotional: bigint;
  qtyDecimals: number;
  mark: bigint;
}

const CLIENT_ID_RE = /^[.A-Z:/a-z0-9_-]{1,36}$/;
/** Statuses of an order that still works on the book; only these hold their client id. */
const OPEN_STATUSES: ReadonlySet<string> = new Set(["NEW", "PARTIALLY_FILLED"]);
const PRICE_DECIMALS = 8;

/** Default mark prices used until a test sets a position (keeps notional checks meaningful). */
const DEFAULT_MARKS: Record<string, string> = {
  BTCUSDT: "60000",
  ETHUSDT: "3000",
  SOLUSDT: "150",
  XRPUSDT: "0.5",
};

/**
 * The fake's trading state: positions per (symbol, positionSide), regular orders and conditional (algo)
 * orders by client id. Handlers validate like Binance and throw FakeApiError with Binance's codes.
 */
export class FakeEngine {
  readonly symbols = new Map<string, SymbolState>();
  private readonly positions = new Map<string, PositionState>();
  readonly regular = new Map<string, FakeOrder>();
  readonly algo = new Map<string, FakeOrder>();
  readonly all: FakeOrder[] = [];
  /** Fills made per client order id (a MARKET order re-sent with a finished id fills again). */
  readonly fills = new Map<string, number>();
  private nextOrderId = 4_000_000_001;
  private nextAlgoId = 1_000_000_001;
  dualSidePosition: boolean;

  constructor(specs: FakeSymbolSpec[], dualSidePosition: boolean) {
    this.dualSidePosition = dualSidePosition;
    for (const spec of specs) {
      const step = dec(spec.marketStepSize ?? spec.stepSize);
      this.symbols.set(spec.symbol, {
        spec,
        step,
        minQty: dec(spec.marketMinQty ?? spec.minQty),
        maxQty: dec(spec.marketMaxQty ?? spec.maxQty),
        tick: dec(spec.tickSize),
        minNotional: dec(spec.minNotional),
        qtyDecimals: decimalsOf(spec.stepSize),
        mark: dec(DEFAULT_MARKS[spec.symbol] ?? "100"),
      });
    }
  }

  symbol(name: string | undefined): SymbolState {
    if (name === undefined || name === "") throw errors.missingParam("symbol");
    const s = this.symbols.get(name);
    if (s === undefined) throw errors.invalidSymbol();
    return s;
  }

  setPosition(
    symbol: string,
    amt: string,
    mark: string,
    opts: { entryPrice?: string; positionSide?: FakePositionSide; leverage?: number } = {},
  ): void {
    const s = this.symbol(symbol);
    s.mark = dec(mark);
    const amount = dec(amt);
    const entry = opts.entryPrice !== undefined ? dec(opts.entryPrice) : amount === 0n ? 0n : s.mark;
    const side = opts.positionSide ?? "BOTH";
    const prev = this.positions.get(`${symbol}:${side}`);
    this.positions.set(`${symbol}:${side}`, {
      amt: amount,
      entry,
      leverage: opts.leverage ?? prev?.leverage ?? 20,
    });
  }

  position(symbol: string, side: FakePositionSide = "BOTH"): FakePosition | null {
    const s = this.symbols.get(symbol);
    const p = this.positions.get(`${symbol}:${side}`);
    if (s === undefined || p === undefined) return null;
    return {
      symbol,
      positionSide: side,
      positionAmt: formatDec(p.amt, s.qtyDecimals),
      entryPrice: formatDec(p.entry, PRICE_DECIMALS),
      markPrice: formatDec(s.mark, PRICE_DECIMALS),
      leverage: p.leverage,
    };
  }

  private pos(symbol: string, side: FakePositionSide): PositionState {
    const key = `${symbol}:${side}`;
    let p = this.positions.get(key);
    if (p === undefined) {
      p = { amt: 0n, entry: 0n, leverage: 20 };
      this.positions.set(key, p);
    }
    return p;
  }

  // ---- market data -------------------------------------------------------------------------------

  exchangeInfo(nowMs: number): unknown {
    return {
      timezone: "UTC",
      serverTime: nowMs,
      futuresType: "U_MARGINED",
      rateLimits: [
        { rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit: 2400 },
        { rateLimitType: "ORDERS", interval: "MINUTE", intervalNum: 1, limit: 1200 },
        { rateLimitType: "ORDERS", interval: "SECOND", intervalNum: 10, limit: 300 },
      ],
      exchangeFilters: [],
      assets: [{ asset: "USDT", marginAvailable: true, autoAssetExchange: "-10000" }],
      symbols: [...this.symbols.values()].map(({ spec }) => ({
        symbol: spec.symbol,
        pair: spec.symbol,
        contractType: "PERPETUAL",
        deliveryDate: 4133404800000,
        onboardDate: 1569398400000,
        status: spec.status ?? "TRADING",
        baseAsset: spec.symbol.replace(/USDT$/, ""),
        quoteAsset: "USDT",
        marginAsset: "USDT",
        pricePrecision: decimalsOf(spec.tickSize),
        quantityPrecision: decimalsOf(spec.stepSize),
        filters: [
          {
            filterType: "PRICE_FILTER",
            minPrice: spec.tickSize,
            maxPrice: "4529764",
            tickSize: spec.tickSize,
          },
          { filterType: "LOT_SIZE", stepSize: spec.stepSize, maxQty: spec.maxQty, minQty: spec.minQty },
          {
            filterType: "MARKET_LOT_SIZE",
            stepSize: spec.marketStepSize ?? spec.stepSize,
            maxQty: spec.marketMaxQty ?? spec.maxQty,
            minQty: spec.marketMinQty ?? spec.minQty,
          },
          { filterType: "MAX_NUM_ORDERS", limit: 200 },
          { filterType: "MAX_NUM_ALGO_ORDERS", limit: 10 },
          { filterType: "MIN_NOTIONAL", notional: spec.minNotional },
          {
            filterType: "PERCENT_PRICE",
            multiplierUp: "1.0500",
            multiplierDown: "0.9500",
            multiplierDecimal: "4",
          },
        ],
        orderTypes: ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET"],
        timeInForce: ["GTC", "IOC", "FOK", "GTX", "GTD"],
      })),
    };
  }

  positionRisk(params: Params, nowMs: number): unknown[] {
    const only = params.symbol !== undefined ? [this.symbol(params.symbol)] : [...this.symbols.values()];
    const sides: FakePositionSide[] = this.dualSidePosition ? ["LONG", "SHORT"] : ["BOTH"];
    return only.flatMap((s) =>
      sides.map((side) => {
        const p = this.positions.get(`${s.spec.symbol}:${side}`) ?? { amt: 0n, entry: 0n, leverage: 20 };
        const pnl = p.amt === 0n ? 0n : mulDec(s.mark - p.entry, p.amt);
        return {
          symbol: s.spec.symbol,
          positionAmt: formatDec(p.amt, s.qtyDecimals),
          entryPrice: formatDec(p.entry, PRICE_DECIMALS),
          breakEvenPrice: formatDec(p.entry, PRICE_DECIMALS),
          markPrice: formatDec(s.mark, PRICE_DECIMALS),
          unRealizedProfit: formatDec(pnl, PRICE_DECIMALS),
          liquidationPrice: "0",
          leverage: String(p.leverage),
          maxNotionalValue: "250000000",
          marginType: "cross",
          isolatedMargin: "0.00000000",
          isAutoAddMargin: "false",
          positionSide: side,
          notional: formatDec(mulDec(p.amt, s.mark), PRICE_DECIMALS),
          isolatedWallet: "0",
          updateTime: nowMs,
        };
      }),
    );
  }

  // ---- shared order validation --------------------------------------------------------------------

  side(params: Params): "BUY" | "SELL" {
    const side = params.side;
    if (side === undefined) throw errors.missingParam("side");
    if (side !== "BUY" && side !== "SELL") throw errors.invalidSide();
    return side;
  }

  /**
   * The request's client id. Binance keeps a client id unique only among OPEN orders: an id whose order
   * is still working is refused (-4116); an id whose order filled, was canceled or expired is accepted
   * again and creates a new order.
   */
  clientId(params: Params, name: string, taken: Map<string, FakeOrder>, prefix: string): string {
    const id = params[name] ?? `${prefix}${this.nextOrderId}`;
    if (!CLIENT_ID_RE.test(id)) throw errors.illegalChars(name);
    const previous = taken.get(id);
    if (previous !== undefined && OPEN_STATUSES.has(previous.status)) throw errors.duplicateClientId();
    return id;
  }

  /** positionSide as the account mode requires; reduceOnly is refused in hedge mode. */
  positionSide(params: Params): FakePositionSide {
    const ps = params.positionSide ?? "BOTH";
    if (this.dualSidePosition) {
      if (ps !== "LONG" && ps !== "SHORT") throw errors.positionSideMismatch();
      if (params.reduceOnly !== undefined) throw errors.notRequired("reduceonly");
      return ps;
    }
    if (ps !== "BOTH") throw errors.positionSideMismatch();
    return "BOTH";
  }

  quantity(params: Params, s: SymbolState): bigint {
    const raw = params.quantity;
    if (raw === undefined || raw === "") throw errors.missingParam("quantity");
    const qty = parseDec(raw);
    if (qty === null) throw errors.badPrecision();
    if (qty <= 0n) throw errors.qtyNotPositive();
    if (!isMultipleOf(qty, s.step)) throw errors.badPrecision();
    if (qty < s.minQty) throw errors.qtyBelowMin();
    if (qty > s.maxQty) throw errors.qtyAboveMax();
    return qty;
  }

  price(params: Params, name: string, s: SymbolState): bigint {
    const raw = params[name];
    if (raw === undefined || raw === "") throw errors.missingParam(name);
    const p = parseDec(raw);
    if (p === null || p <= 0n) throw errors.missingParam(name);
    if (!isMultipleOf(p, s.tick)) throw errors.badTick();
    return p;
  }

  // ---- regular orders (MARKET) --------------------------------------------------------------------

  newOrder(params: Params, nowMs: number): unknown {
    const s = this.symbol(params.symbol);
    const side = this.side(params);
    const type = params.type;
    if (type === undefined) throw errors.missingParam("type");
    if (["STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"].includes(type)) {
      throw errors.useAlgoApi();
    }
    if (type !== "MARKET") throw errors.invalidOrderType();
    const clientOrderId = this.clientId(params, "newClientOrderId", this.regular, "fake-");
    const positionSide = this.positionSide(params);
    const qty = this.quantity(params, s);
    const reduceOnly = params.reduceOnly === "true";
    const signedQty = side === "BUY" ? qty : -qty;
    const p = this.pos(s.spec.symbol, positionSide);
    const closing =
      reduceOnly ||
      (positionSide === "LONG" && side === "SELL") ||
      (positionSide === "SHORT" && side === "BUY");
    if (closing) {
      const reduces = p.amt !== 0n && p.amt > 0n !== signedQty > 0n && qty <= absDec(p.amt);
      if (!reduces) throw errors.reduceOnlyRejected();
    } else if (mulDec(qty, s.mark) < s.minNotional) {
      throw errors.minNotional(s.spec.minNotional);
    }
    this.fill(p, signedQty, s.mark);
    const order: FakeOrder = {
      orderId: this.nextOrderId++,
      clientOrderId,
      symbol: s.spec.symbol,
      side,
      type,
      status: "FILLED",
      origQty: formatDec(qty, s.qtyDecimals),
      executedQty: formatDec(qty, s.qtyDecimals),
      avgPrice: formatDec(s.mark, PRICE_DECIMALS),
      cumQuote: formatDec(mulDec(qty, s.mark), PRICE_DECIMALS),
      reduceOnly,
      closePosition: false,
      positionSide,
      stopPrice: "0",
      workingType: "CONTRACT_PRICE",
      algo: false,
      time: nowMs,
      updateTime: nowMs,
    };
    this.regular.set(clientOrderId, order);
    this.all.push(order);
    this.fills.set(clientOrderId, (this.fills.get(clientOrderId) ?? 0) + 1);
    if (params.newOrderRespType === "RESULT") return orderBody(order, true);
    return orderBody(
      { ...order, status: "NEW", executedQty: zeroLike(order.origQty), avgPrice: "0.00" },
      true,
    );
  }

  private fill(p: PositionState, signedQty: bigint, mark: bigint): void {
    const next = p.amt + signedQty;
    if (p.amt === 0n) p.entry = mark;
    else if (p.amt > 0n === signedQty > 0n) {
      const oldAbs = absDec(p.amt);
      const qty = absDec(signedQty);
      p.entry = divDec(mulDec(oldAbs, p.entry) + mulDec(qty, mark), oldAbs + qty);
    } else if (next === 0n) p.entry = 0n;
    else if (next > 0n !== p.amt > 0n) p.entry = mark;
    p.amt = next;
  }

  findRegular(params: Params): FakeOrder {
    this.symbol(params.symbol);
    const byClient = params.origClientOrderId;
    const byId = params.orderId;
    if (byClient === undefined && byId === undefined) throw errors.missingParam("orderId");
    const order =
      byClient !== undefined
        ? this.regular.get(byClient)
        : [...this.regular.values()].find((o) => String(o.orderId) === byId);
    if (order === undefined || order.symbol !== params.symbol) throw errors.noSuchOrder();
    return order;
  }

  queryOrder(params: Params): unknown {
    return orderBody(this.findRegular(params), false);
  }

  cancelOrder(params: Params, nowMs: number): unknown {
    let order: FakeOrder;
    try {
      order = this.findRegular(params);
    } catch {
      throw errors.cancelRejected();
    }
    if (order.status !== "NEW") throw errors.cancelRejected();
    order.status = "CANCELED";
    order.updateTime = nowMs;
    return orderBody(order, true);
  }

  nextAlgo(): number {
    return this.nextAlgoId++;
  }
}

function zeroLike(qty: string): string {
  return qty.replace(/\d/g, "0");
}

/** The order payload of New Order (RESULT) / Query Order / Cancel Order. */
export function orderBody(o: FakeOrder, withCumQty: boolean): Record<string, unknown> {
  return {
    orderId: o.orderId,
    symbol: o.symbol,
    status: o.status,
    clientOrderId: o.clientOrderId,
    price: "0.00",
    avgPrice: o.avgPrice,
    origQty: o.origQty,
    executedQty: o.executedQty,
    ...(withCumQty ? { cumQty: o.executedQty } : {}),
    cumQuote: o.cumQuote,
    timeInForce: "GTC",
    type: o.type,
    reduceOnly: o.reduceOnly,
    closePosition: o.closePosition,
    side: o.side,
    positionSide: o.positionSide,
    stopPrice: o.stopPrice,
    workingType: o.workingType,
    priceProtect: false,
    origType: o.type,
    priceMatch: "NONE",
    selfTradePreventionMode: "EXPIRE_MAKER",
    goodTillDate: 0,
    ...(withCumQty ? {} : { time: o.time }),
    updateTime: o.updateTime,
  };
}
