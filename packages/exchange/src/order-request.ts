import { CLIENT_ORDER_ID_PATTERN } from "./client-order-id.js";
import { InvalidOrderError } from "./errors/invalid-order-error.js";
import type { OrderRequest } from "./types.js";

const SYMBOL_RE = /^[A-Z0-9]{2,30}$/;
const POSITIVE_DECIMAL_RE = /^(?:\d+\.?\d*|\.\d+)$/;

function positiveDecimal(v: string | undefined): boolean {
  return v !== undefined && POSITIVE_DECIMAL_RE.test(v) && /[1-9]/.test(v);
}

/**
 * Reject order requests no venue would accept as built (caller bugs) before anything is sent:
 * MARKET needs a quantity; STOP_MARKET needs a stopPrice and either closePosition or a quantity.
 */
export function validateOrderRequest(order: OrderRequest): void {
  if (!CLIENT_ORDER_ID_PATTERN.test(order.clientOrderId)) {
    throw new InvalidOrderError(`invalid client order id ${JSON.stringify(order.clientOrderId)}`);
  }
  if (!SYMBOL_RE.test(order.symbol))
    throw new InvalidOrderError(`invalid symbol ${JSON.stringify(order.symbol)}`);
  if (order.side !== "BUY" && order.side !== "SELL") throw new InvalidOrderError("side must be BUY or SELL");
  if (order.type === "MARKET") {
    if (!positiveDecimal(order.quantity))
      throw new InvalidOrderError("MARKET order needs a positive quantity");
    if (order.closePosition === true || order.stopPrice !== undefined) {
      throw new InvalidOrderError("closePosition/stopPrice only apply to STOP_MARKET");
    }
    return;
  }
  if (order.type !== "STOP_MARKET") throw new InvalidOrderError("type must be MARKET or STOP_MARKET");
  if (!positiveDecimal(order.stopPrice))
    throw new InvalidOrderError("STOP_MARKET order needs a positive stopPrice");
  if (order.closePosition === true) {
    if (order.quantity !== undefined || order.reduceOnly === true) {
      throw new InvalidOrderError("closePosition stops take no quantity and no reduceOnly");
    }
  } else if (!positiveDecimal(order.quantity)) {
    throw new InvalidOrderError("STOP_MARKET order needs closePosition or a positive quantity");
  }
}
