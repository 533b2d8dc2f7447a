import { CLOSE_FRACTIONS, decodePositionSnapshot, isCloseAction, keys } from "@quantum/contracts";
import { type Exchange, floorToStep } from "@quantum/exchange";
import { Decimal } from "decimal.js";
import type { Redis } from "ioredis";
import type { PlanEstimate } from "./plan-gates.js";

/** The signed position of `symbol` at the venue ("0" when flat or absent). Throws ExchangeRequestError. */
export async function positionFromExchange(exchange: Exchange, symbol: string): Promise<string> {
  const all = await exchange.getPositions();
  let sum = new Decimal(0);
  for (const p of all) if (p.symbol === symbol) sum = sum.plus(p.positionAmt);
  return sum.toFixed();
}

/** `price` rounded to the nearest multiple of `tick` (decimal arithmetic); null when it rounds to <= 0. */
export function roundToTick(price: number, tick: string): string | null {
  const t = new Decimal(tick);
  const p = new Decimal(price);
  if (!p.isFinite() || p.lte(0)) return null;
  if (!t.gt(0)) return p.toFixed();
  const rounded = p.div(t).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).mul(t);
  return rounded.gt(0) ? rounded.toFixed(t.decimalPlaces()) : null;
}

/**
 * close_qty / price of a plan for the Governor, from P3.3's last snapshot of the symbol (estimate only:
 * P3.3's permit decides the real quantity). Nulls when there is no usable snapshot.
 */
export async function estimateFromSnapshot(
  redis: Redis,
  symbol: string,
  action: string,
): Promise<PlanEstimate> {
  const none: PlanEstimate = { closeQty: null, price: null };
  const snap = decodePositionSnapshot(await redis.hgetall(keys.positionSnapshot(symbol)));
  if (!snap.ok) return none;
  const price = new Decimal(snap.value.markPrice).gt(0) ? snap.value.markPrice : null;
  if (!isCloseAction(action)) return { closeQty: null, price };
  const qty = new Decimal(snap.value.positionAmt).abs().mul(CLOSE_FRACTIONS[action]);
  // Without the symbol's step the estimate keeps 8 decimals (floored).
  return { closeQty: floorToStep(qty, "0.00000001").toFixed(), price };
}
