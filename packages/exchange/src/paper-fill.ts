import { Decimal } from "decimal.js";
import { stepDecimals } from "./quantity.js";
import type { OrderInfo, OrderRequest, RejectedOutcome, SymbolRules } from "./types.js";

/**
 * What a paper order does to a position, decided with decimal arithmetic and Binance's rules and codes.
 * Pure: the PaperExchange applies the result atomically (placePaperOrder-4.lua).
 */

const D = Decimal.clone({ precision: 60 });
const ENTRY_DECIMALS = 8;

export type PaperPlan =
  | { ok: false; outcome: RejectedOutcome | { kind: "notSent"; detail: string } }
  | {
      ok: true;
      fill: boolean;
      status: "FILLED" | "NEW";
      executedQty: string;
      avgPrice: string;
      newAmt: string;
      newEntry: string;
    };

function decimalOrNull(v: string | null): Decimal | null {
  if (v === null || v === "") return null;
  try {
    const d = new D(v);
    return d.isFinite() ? d : null;
  } catch {
    return null;
  }
}

type QtyCheck = { ok: true; qty: Decimal } | Extract<PaperPlan, { ok: false }>;
const refuse = (code: number, msg: string): Extract<PaperPlan, { ok: false }> => ({
  ok: false,
  outcome: { kind: "rejected", code, msg },
});

function checkQuantity(raw: string | undefined, rules: SymbolRules): QtyCheck {
  const qty = decimalOrNull(raw ?? null);
  if (qty === null || qty.lte(0)) return refuse(-4003, "Quantity less than or equal to zero.");
  if (!qty.mod(rules.stepSize).isZero())
    return refuse(-1111, "Precision is over the maximum defined for this asset.");
  if (qty.lt(rules.minQty)) return refuse(-4004, "Quantity less than min quantity.");
  if (new D(rules.maxQty).gt(0) && qty.gt(rules.maxQty))
    return refuse(-4005, "Quantity greater than max quantity.");
  return { ok: true, qty };
}

/** Entry price after adding `signed` at `mark` to a position of `amt` at `entry`. */
function nextEntry(amt: Decimal, entry: Decimal, signed: Decimal, mark: Decimal): Decimal {
  const next = amt.plus(signed);
  if (next.isZero()) return new D(0);
  if (amt.isZero()) return mark;
  if (amt.isPositive() === signed.isPositive()) {
    const total = amt.abs().plus(signed.abs());
    return amt.abs().mul(entry).plus(signed.abs().mul(mark)).div(total);
  }
  if (next.isPositive() !== amt.isPositive()) return mark;
  return entry;
}

/**
 * Plan a paper order against the position as read (`amtRaw`, `markRaw`, `entryRaw` may be null when
 * absent). MARKET orders fill at the mark price; a reduce-only order that would open, grow, flip or
 * exceed the position is refused with -2022; STOP_MARKET orders are only stored (NEW).
 */
export function planPaperOrder(
  order: OrderRequest,
  rules: SymbolRules,
  amtRaw: string | null,
  markRaw: string | null,
  entryRaw: string | null,
): PaperPlan {
  if (order.positionSide !== undefined && order.positionSide !== "BOTH") {
    return refuse(-4061, "Order's position side does not match user's setting.");
  }
  const amt = decimalOrNull(amtRaw) ?? new D(0);
  if (order.type === "STOP_MARKET") {
    const stop = decimalOrNull(order.stopPrice ?? null);
    if (stop === null || stop.lte(0) || (new D(rules.tickSize).gt(0) && !stop.mod(rules.tickSize).isZero())) {
      return refuse(-4014, "Price not increased by tick size.");
    }
    if (order.closePosition !== true) {
      const checked = checkQuantity(order.quantity, rules);
      if (!checked.ok) return checked;
    }
    return {
      ok: true,
      fill: false,
      status: "NEW",
      executedQty: "0",
      avgPrice: "0",
      newAmt: "",
      newEntry: "",
    };
  }
  const checked = checkQuantity(order.quantity, rules);
  if (!checked.ok) return checked;
  const q = checked.qty;
  const signed = order.side === "BUY" ? q : q.neg();
  if (order.reduceOnly === true) {
    const reduces = !amt.isZero() && amt.isPositive() !== signed.isPositive() && q.lte(amt.abs());
    if (!reduces) return refuse(-2022, "ReduceOnly Order is rejected.");
  }
  const mark = decimalOrNull(markRaw);
  if (mark === null || mark.lte(0)) {
    return { ok: false, outcome: { kind: "notSent", detail: `paper: no mark price for ${order.symbol}` } };
  }
  if (order.reduceOnly !== true && q.mul(mark).lt(rules.minNotional)) {
    return refuse(
      -4164,
      `Order's notional must be no smaller than ${rules.minNotional} (unless you choose reduce only).`,
    );
  }
  const entry = decimalOrNull(entryRaw) ?? mark;
  return {
    ok: true,
    fill: true,
    status: "FILLED",
    executedQty: q.toFixed(stepDecimals(rules.stepSize)),
    avgPrice: markRaw ?? mark.toFixed(),
    newAmt: amt.plus(signed).toFixed(),
    newEntry: nextEntry(amt, entry, signed, mark).toDecimalPlaces(ENTRY_DECIMALS).toFixed(),
  };
}

/** The stored paper order hash as an OrderInfo. */
export function orderFromHash(h: Record<string, string>): OrderInfo {
  return {
    orderId: h.order_id ?? "",
    clientOrderId: h.client_order_id ?? "",
    symbol: h.symbol ?? "",
    side: h.side === "BUY" ? "BUY" : "SELL",
    type: h.type ?? "",
    status: h.status ?? "",
    origQty: h.orig_qty ?? "0",
    executedQty: h.executed_qty ?? "0",
    avgPrice: h.avg_price ?? "0",
    reduceOnly: h.reduce_only === "true",
    closePosition: h.close_position === "true",
    stopPrice: h.stop_price ?? "0",
    positionSide: "BOTH",
    updateTimeMs: Number(h.updated_at_ms ?? "0"),
  };
}
