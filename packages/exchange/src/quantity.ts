import { Decimal } from "decimal.js";
import type { SymbolRules } from "./types.js";

/** Decimal with enough precision for any quantity / step quotient, rounding toward zero. */
const D = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_DOWN });
type DecimalInput = string | number | Decimal;

/** Number of decimals of a step ("0.001" → 3, "0.10" → 1, "1" → 0). */
export function stepDecimals(step: DecimalInput): number {
  return new D(step).decimalPlaces();
}

/** The largest multiple of `step` not above `qty` (for qty ≥ 0). 0.3 with step 0.1 stays 0.3. */
export function floorToStep(qty: DecimalInput, step: DecimalInput): Decimal {
  const q = new D(qty);
  const s = new D(step);
  if (!s.isFinite() || s.lte(0)) throw new RangeError(`step must be > 0, got ${String(step)}`);
  return q.div(s).floor().mul(s);
}

/** `qty` floored to `step`, printed with exactly the step's decimals (what Binance accepts). */
export function formatToStep(qty: DecimalInput, step: DecimalInput): string {
  return floorToStep(qty, step).toFixed(stepDecimals(step), Decimal.ROUND_DOWN);
}

export type QuantityRejectReason = "invalid_qty" | "qty_below_min" | "qty_above_max" | "notional_below_min";

export type RoundedQuantity = { ok: true; qty: string } | { ok: false; reason: QuantityRejectReason };

export interface RoundQuantityOptions {
  /** Reduce-only closes are exempt from the minimum notional (Binance: "unless you choose reduce only"). */
  reduceOnly: boolean;
  /** Reference price for the notional check of non-reduce-only orders; without it the check is skipped. */
  price?: string;
}

/**
 * Floor a wanted quantity to the symbol's step with decimal arithmetic and check it against the rules:
 * below minQty (including 0) → qty_below_min, above maxQty → qty_above_max (never silently clamped).
 */
export function roundOrderQuantity(
  qty: DecimalInput,
  rules: Pick<SymbolRules, "stepSize" | "minQty" | "maxQty" | "minNotional">,
  opts: RoundQuantityOptions,
): RoundedQuantity {
  let wanted: Decimal;
  try {
    wanted = new D(qty);
  } catch {
    return { ok: false, reason: "invalid_qty" };
  }
  if (!wanted.isFinite() || wanted.isNegative()) return { ok: false, reason: "invalid_qty" };
  const floored = floorToStep(wanted, rules.stepSize);
  if (floored.lte(0) || floored.lt(rules.minQty)) return { ok: false, reason: "qty_below_min" };
  const maxQty = new D(rules.maxQty);
  if (maxQty.gt(0) && floored.gt(maxQty)) return { ok: false, reason: "qty_above_max" };
  if (!opts.reduceOnly && opts.price !== undefined && floored.mul(opts.price).lt(rules.minNotional)) {
    return { ok: false, reason: "notional_below_min" };
  }
  return { ok: true, qty: floored.toFixed(stepDecimals(rules.stepSize), Decimal.ROUND_DOWN) };
}
