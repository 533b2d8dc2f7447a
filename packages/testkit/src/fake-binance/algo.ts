import { errors } from "./api-error.js";
import type { FakeEngine, Params } from "./engine.js";
import { decimalsOf, formatDec } from "./fixed.js";
import type { FakeOrder } from "./types.js";

/**
 * Conditional orders on the Algo Order API (POST/GET/DELETE /fapi/v1/algoOrder). Binance moved
 * STOP_MARKET & co. there in December 2025; /fapi/v1/order answers -4120 for them. The fake stores
 * them (status NEW) and never triggers them.
 */
export function newAlgoOrder(engine: FakeEngine, params: Params, nowMs: number): unknown {
  if (params.algoType === undefined) throw errors.missingParam("algoType");
  if (params.algoType !== "CONDITIONAL") throw errors.invalidOrderType();
  const s = engine.symbol(params.symbol);
  const side = engine.side(params);
  const type = params.type;
  if (type === undefined) throw errors.missingParam("type");
  if (type !== "STOP_MARKET" && type !== "TAKE_PROFIT_MARKET") throw errors.invalidOrderType();
  const clientAlgoId = engine.clientId(params, "clientAlgoId", engine.algo, "fake-algo-");
  const positionSide = engine.positionSide(params);
  const trigger = engine.price(params, "triggerPrice", s);
  const closePosition = params.closePosition === "true";
  let qty = "0";
  if (closePosition) {
    if (params.quantity !== undefined) throw errors.notRequired("quantity");
    if (params.reduceOnly !== undefined) throw errors.notRequired("reduceOnly");
  } else {
    qty = formatDec(engine.quantity(params, s), s.qtyDecimals);
  }
  const order: FakeOrder = {
    orderId: engine.nextAlgo(),
    clientOrderId: clientAlgoId,
    symbol: s.spec.symbol,
    side,
    type,
    status: "NEW",
    origQty: qty,
    executedQty: "0",
    avgPrice: "0.00",
    cumQuote: "0",
    reduceOnly: params.reduceOnly === "true",
    closePosition,
    positionSide,
    stopPrice: formatDec(trigger, decimalsOf(s.spec.tickSize)),
    workingType: params.workingType ?? "CONTRACT_PRICE",
    algo: true,
    time: nowMs,
    updateTime: nowMs,
  };
  engine.algo.set(clientAlgoId, order);
  engine.all.push(order);
  return algoBody(order);
}

function findAlgo(engine: FakeEngine, params: Params): FakeOrder {
  const byClient = params.clientAlgoId;
  const byId = params.algoId;
  if (byClient === undefined && byId === undefined) throw errors.missingParam("algoId");
  const order =
    byClient !== undefined
      ? engine.algo.get(byClient)
      : [...engine.algo.values()].find((o) => String(o.orderId) === byId);
  if (order === undefined) throw errors.noSuchOrder();
  return order;
}

export function queryAlgoOrder(engine: FakeEngine, params: Params): unknown {
  const order = findAlgo(engine, params);
  return { ...algoBody(order), actualOrderId: "", actualPrice: "0.00000" };
}

export function cancelAlgoOrder(engine: FakeEngine, params: Params, nowMs: number): unknown {
  let order: FakeOrder;
  try {
    order = findAlgo(engine, params);
  } catch {
    throw errors.cancelRejected();
  }
  if (order.status !== "NEW") throw errors.cancelRejected();
  order.status = "CANCELED";
  order.updateTime = nowMs;
  return { algoId: order.orderId, clientAlgoId: order.clientOrderId, code: "200", msg: "success" };
}

function algoBody(o: FakeOrder): Record<string, unknown> {
  return {
    algoId: o.orderId,
    clientAlgoId: o.clientOrderId,
    algoType: "CONDITIONAL",
    orderType: o.type,
    symbol: o.symbol,
    side: o.side,
    positionSide: o.positionSide,
    timeInForce: "GTC",
    quantity: o.origQty,
    algoStatus: o.status,
    triggerPrice: o.stopPrice,
    price: "0.00",
    icebergQuantity: null,
    selfTradePreventionMode: "EXPIRE_MAKER",
    workingType: o.workingType,
    priceMatch: "NONE",
    closePosition: o.closePosition,
    priceProtect: false,
    reduceOnly: o.reduceOnly,
    activatePrice: "",
    callbackRate: "",
    createTime: o.time,
    updateTime: o.updateTime,
    triggerTime: 0,
    goodTillDate: 0,
  };
}
