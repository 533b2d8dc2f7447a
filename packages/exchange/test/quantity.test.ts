import { Decimal } from "decimal.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { floorToStep, formatToStep, roundOrderQuantity, stepDecimals } from "../src/index.js";

const BTC = { stepSize: "0.001", minQty: "0.001", maxQty: "120", minNotional: "100" };

/** Steps as Binance publishes them: 1eN and 5eN-style values written in plain decimal notation. */
const stepArb = fc
  .tuple(fc.constantFrom("1", "5", "25"), fc.integer({ min: -8, max: 2 }))
  .map(([m, e]) => new Decimal(m).mul(new Decimal(10).pow(e)).toFixed());
const qtyArb = fc
  .tuple(fc.bigInt({ min: 0n, max: 10n ** 14n }), fc.integer({ min: 0, max: 10 }))
  .map(([units, scale]) => new Decimal(units.toString()).div(new Decimal(10).pow(scale)).toFixed());

describe("floorToStep / formatToStep", () => {
  it("keeps values already on the step (the float trap 0.3 / 0.1)", () => {
    expect(floorToStep("0.3", "0.1").toFixed()).toBe("0.3");
    expect(formatToStep("0.3", "0.1")).toBe("0.3");
    expect(formatToStep("0.7", "0.1")).toBe("0.7");
    expect(formatToStep("1.1", "0.1")).toBe("1.1");
  });

  it("floors to the step and prints exactly the step's decimals", () => {
    expect(formatToStep("0.0129", "0.001")).toBe("0.012");
    expect(formatToStep("5", "0.001")).toBe("5.000");
    expect(formatToStep("17.9", "1")).toBe("17");
    expect(formatToStep("0.00049", "0.001")).toBe("0.000");
    expect(formatToStep("123.456", "0.10")).toBe("123.4");
    expect(stepDecimals("0.0010")).toBe(3);
    expect(() => floorToStep("1", "0")).toThrow(RangeError);
  });

  it("property: result is a multiple of the step, never above the input, within one step of it", () => {
    fc.assert(
      fc.property(qtyArb, stepArb, (qty, step) => {
        const r = floorToStep(qty, step);
        expect(r.mod(step).isZero()).toBe(true);
        expect(r.lte(qty)).toBe(true);
        expect(new Decimal(qty).minus(r).lt(step)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("property: idempotent, and the formatted string has the step's decimals and parses back", () => {
    fc.assert(
      fc.property(qtyArb, stepArb, (qty, step) => {
        const once = formatToStep(qty, step);
        expect(formatToStep(once, step)).toBe(once);
        expect(floorToStep(floorToStep(qty, step), step).eq(floorToStep(qty, step))).toBe(true);
        const decimals = stepDecimals(step);
        expect(once.split(".")[1]?.length ?? 0).toBe(decimals);
        expect(new Decimal(once).eq(floorToStep(qty, step))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe("roundOrderQuantity", () => {
  it("floors to the step and keeps the step's decimals", () => {
    expect(roundOrderQuantity("0.0129", BTC, { reduceOnly: true })).toEqual({ ok: true, qty: "0.012" });
    expect(
      roundOrderQuantity("0.3", { ...BTC, stepSize: "0.1", minQty: "0.1" }, { reduceOnly: true }),
    ).toEqual({
      ok: true,
      qty: "0.3",
    });
  });

  it("rejects below minQty (including a result of 0) and above maxQty", () => {
    expect(roundOrderQuantity("0.0009", BTC, { reduceOnly: true })).toEqual({
      ok: false,
      reason: "qty_below_min",
    });
    expect(roundOrderQuantity("0", BTC, { reduceOnly: true })).toEqual({
      ok: false,
      reason: "qty_below_min",
    });
    expect(roundOrderQuantity("0.005", { ...BTC, minQty: "0.01" }, { reduceOnly: true })).toEqual({
      ok: false,
      reason: "qty_below_min",
    });
    expect(roundOrderQuantity("120.0009", BTC, { reduceOnly: true })).toEqual({ ok: true, qty: "120.000" });
    expect(roundOrderQuantity("120.001", BTC, { reduceOnly: true })).toEqual({
      ok: false,
      reason: "qty_above_max",
    });
  });

  it("rejects garbage and negative input", () => {
    expect(roundOrderQuantity("abc", BTC, { reduceOnly: true })).toEqual({
      ok: false,
      reason: "invalid_qty",
    });
    expect(roundOrderQuantity("-1", BTC, { reduceOnly: true })).toEqual({ ok: false, reason: "invalid_qty" });
    expect(roundOrderQuantity("Infinity", BTC, { reduceOnly: true })).toEqual({
      ok: false,
      reason: "invalid_qty",
    });
  });

  it("reduce-only closes are exempt from min notional; other orders are checked against a price", () => {
    expect(roundOrderQuantity("0.001", BTC, { reduceOnly: true, price: "60000" })).toEqual({
      ok: true,
      qty: "0.001",
    });
    expect(roundOrderQuantity("0.001", BTC, { reduceOnly: false, price: "60000" })).toEqual({
      ok: false,
      reason: "notional_below_min",
    });
    expect(roundOrderQuantity("0.002", BTC, { reduceOnly: false, price: "60000" })).toEqual({
      ok: true,
      qty: "0.002",
    });
  });

  it("property: an accepted quantity is on the step, within [minQty, maxQty] and never above the input", () => {
    fc.assert(
      fc.property(qtyArb, stepArb, fc.integer({ min: 1, max: 5 }), (qty, step, minSteps) => {
        const rules = {
          stepSize: step,
          minQty: new Decimal(step).mul(minSteps).toFixed(),
          maxQty: new Decimal(step).mul(10_000_000).toFixed(),
          minNotional: "5",
        };
        const r = roundOrderQuantity(qty, rules, { reduceOnly: true });
        if (!r.ok) {
          expect(["qty_below_min", "qty_above_max"]).toContain(r.reason);
          return;
        }
        const q = new Decimal(r.qty);
        expect(q.mod(step).isZero()).toBe(true);
        expect(q.lte(qty)).toBe(true);
        expect(q.gte(rules.minQty) && q.lte(rules.maxQty)).toBe(true);
        expect(roundOrderQuantity(r.qty, rules, { reduceOnly: true })).toEqual(r);
      }),
      { numRuns: 500 },
    );
  });
});
