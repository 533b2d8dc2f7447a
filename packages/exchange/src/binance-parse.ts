import { Decimal } from "decimal.js";
import { MalformedResponseError } from "./errors/malformed-response-error.js";
import type {
  ExchangePosition,
  OrderInfo,
  OrderOutcome,
  OrderSide,
  PositionMode,
  PositionSide,
  SymbolRules,
} from "./types.js";

/**
 * Parsers of Binance USDⓈ-M REST payloads into this package's types. Numbers stay decimal strings;
 * anything off the documented shape throws MalformedResponseError.
 */

type Rec = Record<string, unknown>;

function isRec(v: unknown): v is Rec {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function rec(v: unknown, what: string): Rec {
  if (!isRec(v)) throw new MalformedResponseError(`${what}: expected an object`);
  return v;
}

function str(r: Rec, key: string, fallback?: string): string {
  const v = r[key];
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (fallback !== undefined && (v === undefined || v === null || v === "")) return fallback;
  throw new MalformedResponseError(`field ${key}: expected a string`);
}

function bool(r: Rec, key: string): boolean {
  const v = r[key];
  return v === true || v === "true";
}

function side(r: Rec): OrderSide {
  const s = str(r, "side");
  if (s !== "BUY" && s !== "SELL") throw new MalformedResponseError(`side ${s}`);
  return s;
}

function positionSide(r: Rec): PositionSide {
  const s = str(r, "positionSide", "BOTH");
  if (s !== "BOTH" && s !== "LONG" && s !== "SHORT") throw new MalformedResponseError(`positionSide ${s}`);
  return s;
}

/** GET /fapi/v1/time → epoch ms. */
export function parseServerTime(data: unknown): number {
  const t = rec(data, "time").serverTime;
  if (typeof t !== "number" || !Number.isFinite(t)) throw new MalformedResponseError("serverTime");
  return t;
}

/** GET /fapi/v2/positionRisk → every entry (one per symbol, two per symbol in hedge mode). */
export function parsePositions(data: unknown): ExchangePosition[] {
  if (!Array.isArray(data)) throw new MalformedResponseError("positionRisk: expected an array");
  return data.map((item) => {
    const r = rec(item, "position");
    return {
      symbol: str(r, "symbol"),
      positionAmt: str(r, "positionAmt"),
      entryPrice: str(r, "entryPrice"),
      markPrice: str(r, "markPrice"),
      unrealizedPnl: str(r, "unRealizedProfit"),
      leverage: str(r, "leverage", "0"),
      positionSide: positionSide(r),
    };
  });
}

function isZero(v: string): boolean {
  return new Decimal(v).isZero();
}

/** GET /fapi/v1/exchangeInfo → rules per symbol. */
export function parseExchangeInfo(data: unknown): Map<string, SymbolRules> {
  const symbols = rec(data, "exchangeInfo").symbols;
  if (!Array.isArray(symbols)) throw new MalformedResponseError("exchangeInfo.symbols: expected an array");
  const out = new Map<string, SymbolRules>();
  for (const item of symbols) {
    const s = rec(item, "symbol");
    const filters = Array.isArray(s.filters) ? s.filters.filter(isRec) : [];
    const byType = (t: string): Rec | undefined => filters.find((f) => f.filterType === t);
    const lot = byType("LOT_SIZE");
    if (lot === undefined) continue;
    const market = byType("MARKET_LOT_SIZE");
    const qty = market !== undefined && !isZero(str(market, "stepSize", "0")) ? market : lot;
    const price = byType("PRICE_FILTER");
    const notional = byType("MIN_NOTIONAL");
    const symbol = str(s, "symbol");
    out.set(symbol, {
      symbol,
      stepSize: str(qty, "stepSize"),
      minQty: str(qty, "minQty"),
      maxQty: str(qty, "maxQty"),
      tickSize: price !== undefined ? str(price, "tickSize") : "0",
      minNotional: notional !== undefined ? str(notional, "notional", "0") : "0",
      status: str(s, "status", "UNKNOWN"),
    });
  }
  return out;
}

/** GET /fapi/v1/positionSide/dual. */
export function parsePositionMode(data: unknown): PositionMode {
  const dual = rec(data, "positionSide/dual").dualSidePosition;
  if (typeof dual !== "boolean") throw new MalformedResponseError("dualSidePosition");
  return dual ? "hedge" : "one_way";
}

/** New Order (RESULT) / Query Order / Cancel Order payload. */
export function parseOrder(data: unknown): OrderInfo {
  const r = rec(data, "order");
  return {
    orderId: str(r, "orderId"),
    clientOrderId: str(r, "clientOrderId"),
    symbol: str(r, "symbol"),
    side: side(r),
    type: str(r, "type"),
    status: str(r, "status"),
    origQty: str(r, "origQty", "0"),
    executedQty: str(r, "executedQty", "0"),
    avgPrice: str(r, "avgPrice", "0"),
    reduceOnly: bool(r, "reduceOnly"),
    closePosition: bool(r, "closePosition"),
    stopPrice: str(r, "stopPrice", "0"),
    positionSide: positionSide(r),
    updateTimeMs: Number(str(r, "updateTime", "0")),
  };
}

/** New / Query Algo Order payload (conditional orders, e.g. STOP_MARKET). */
export function parseAlgoOrder(data: unknown): OrderInfo {
  const r = rec(data, "algoOrder");
  return {
    orderId: str(r, "algoId"),
    clientOrderId: str(r, "clientAlgoId"),
    symbol: str(r, "symbol"),
    side: side(r),
    type: str(r, "orderType"),
    status: str(r, "algoStatus"),
    origQty: str(r, "quantity", "0"),
    executedQty: str(r, "executedQty", "0"),
    avgPrice: str(r, "actualPrice", str(r, "avgPrice", "0")),
    reduceOnly: bool(r, "reduceOnly"),
    closePosition: bool(r, "closePosition"),
    stopPrice: str(r, "triggerPrice", "0"),
    positionSide: positionSide(r),
    updateTimeMs: Number(str(r, "updateTime", "0")),
  };
}

/** Cancel Algo Order payload → the ids it names. */
export function parseAlgoCancel(data: unknown): { orderId: string; clientOrderId: string } {
  const r = rec(data, "algoCancel");
  return { orderId: str(r, "algoId"), clientOrderId: str(r, "clientAlgoId") };
}

const TERMINAL = new Set(["CANCELED", "EXPIRED", "EXPIRED_IN_MATCH", "REJECTED"]);

/**
 * The outcome of an accepted order: FILLED (or terminal with a partial fill) → filled; terminal without
 * any fill → rejected (code 0, status in msg); anything else (NEW, PARTIALLY_FILLED, ...) → accepted.
 */
export function placedOutcome(o: OrderInfo): OrderOutcome {
  const executed = new Decimal(o.executedQty || "0");
  if (TERMINAL.has(o.status) && executed.isZero()) {
    return { kind: "rejected", code: 0, msg: `order ${o.status.toLowerCase()}` };
  }
  const filled = o.status === "FILLED" || (TERMINAL.has(o.status) && executed.gt(0));
  return {
    kind: filled ? "filled" : "accepted",
    orderId: o.orderId,
    clientOrderId: o.clientOrderId,
    status: o.status,
    executedQty: o.executedQty,
    avgPrice: o.avgPrice,
  };
}
