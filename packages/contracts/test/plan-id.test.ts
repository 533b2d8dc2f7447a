import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { computePlanId, formatKillScore, planIdInput, pyFloatRepr, pyFormatFixed } from "../src/index.js";

const sha16 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex").slice(0, 16);

describe("plan_id", () => {
  it("hashes the raw check strings to the published ids", () => {
    expect(sha16("BTCUSDT:FULL_CLOSE_PROPOSED:0.310000:0.0:2026-02-01T06:50:00Z")).toBe("ba3cbf84bf17f3a2");
    expect(sha16("ETHUSDT:PARTIAL_50:0.200000:None:2026-02-01T06:50:00Z")).toBe("9e5a2b596b707866");
  });

  it("renders kill score with 6 decimals and new_sl as a Python float", () => {
    const btc = {
      symbol: "BTCUSDT",
      action: "FULL_CLOSE_PROPOSED",
      killScore: 0.31,
      newSlProposed: 0,
      computedAtUtc: "2026-02-01T06:50:00Z",
    };
    expect(planIdInput(btc)).toBe("BTCUSDT:FULL_CLOSE_PROPOSED:0.310000:0.0:2026-02-01T06:50:00Z");
    expect(computePlanId(btc)).toBe("ba3cbf84bf17f3a2");
  });

  it("renders a missing new_sl as None", () => {
    const eth = {
      symbol: "ETHUSDT",
      action: "PARTIAL_50",
      killScore: 0.2,
      newSlProposed: null,
      computedAtUtc: "2026-02-01T06:50:00Z",
    };
    expect(planIdInput(eth)).toBe("ETHUSDT:PARTIAL_50:0.200000:None:2026-02-01T06:50:00Z");
    expect(computePlanId(eth)).toBe("9e5a2b596b707866");
    const { newSlProposed: _omit, ...withoutSl } = eth;
    expect(computePlanId(withoutSl)).toBe("9e5a2b596b707866");
  });

  it("renders a numeric new_sl like Python (41000 -> 41000.0)", () => {
    const p = {
      symbol: "BTCUSDT",
      action: "UPDATE_SL",
      killScore: 0.5,
      newSlProposed: 41000,
      computedAtUtc: "t",
    };
    expect(planIdInput(p)).toBe("BTCUSDT:UPDATE_SL:0.500000:41000.0:t");
  });

  it("is 16 lower-case hex chars and equals sha256 of the input string", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.double({ noNaN: true }),
        fc.option(fc.double(), { nil: null }),
        fc.string({ unit: "binary" }),
        (symbol, action, killScore, newSlProposed, computedAtUtc) => {
          const parts = { symbol, action, killScore, newSlProposed, computedAtUtc };
          const id = computePlanId(parts);
          expect(id).toMatch(/^[0-9a-f]{16}$/);
          expect(id).toBe(sha16(planIdInput(parts)));
        },
      ),
    );
  });
});

describe("pyFloatRepr", () => {
  it.each([
    [0, "0.0"],
    [1, "1.0"],
    [0.1, "0.1"],
    [41000, "41000.0"],
    [1e-5, "1e-05"],
    [0.0001, "0.0001"],
    [1e16, "1e+16"],
    [1e15, "1000000000000000.0"],
    [123456789012345, "123456789012345.0"],
    [1.5e-7, "1.5e-07"],
    [-0, "-0.0"],
    [-2.5e-5, "-2.5e-05"],
    [0.1 + 0.2, "0.30000000000000004"],
    [5e-324, "5e-324"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [1e22, "1e+22"],
    [9999999999999998, "9999999999999998.0"],
    [Number.NaN, "nan"],
    [Number.POSITIVE_INFINITY, "inf"],
    [Number.NEGATIVE_INFINITY, "-inf"],
  ])("repr(%s) = %s", (n, expected) => {
    expect(pyFloatRepr(n)).toBe(expected);
  });

  it("reads back as the same double", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        expect(Object.is(Number(pyFloatRepr(n)), n)).toBe(true);
      }),
    );
  });
});

describe("formatKillScore / pyFormatFixed", () => {
  it.each([
    [0.31, "0.310000"],
    [0.2, "0.200000"],
    [1 / 128, "0.007812"], // exact tie: half-to-even (toFixed would give 0.007813)
    [3 / 128, "0.023438"], // exact tie rounding up to even
    [5e-7, "0.000000"],
    [0.9999995, "1.000000"],
    [-1e-9, "-0.000000"],
    [-0, "-0.000000"],
    [1e21, "1000000000000000000000.000000"],
    [123.4567895, "123.456789"],
    [Number.NaN, "nan"],
    [Number.NEGATIVE_INFINITY, "-inf"],
  ])("%%.6f of %s = %s", (n, expected) => {
    expect(formatKillScore(n)).toBe(expected);
  });

  it("supports other precisions and rejects bad ones", () => {
    expect(pyFormatFixed(2.5, 0)).toBe("2");
    expect(pyFormatFixed(3.5, 0)).toBe("4");
    expect(pyFormatFixed(0.125, 2)).toBe("0.12");
    expect(() => pyFormatFixed(1, -1)).toThrow(RangeError);
    expect(() => pyFormatFixed(1, 1.5)).toThrow(RangeError);
  });
});

describe("Python vectors (test/fixtures/python-float-vectors.json)", () => {
  const fixture = JSON.parse(
    readFileSync(new URL("./fixtures/python-float-vectors.json", import.meta.url), "utf8"),
  ) as { vectors: { bits: string; repr: string; fixed6: string }[] };
  const toDouble = (hex: string) => Buffer.from(hex, "hex").readDoubleBE(0);

  it("has a few hundred vectors", () => {
    expect(fixture.vectors.length).toBeGreaterThan(500);
  });

  it("matches repr(x) for every vector", () => {
    const mismatches = fixture.vectors.filter((v) => pyFloatRepr(toDouble(v.bits)) !== v.repr);
    expect(mismatches).toEqual([]);
  });

  it("matches '%.6f' % x for every vector", () => {
    const mismatches = fixture.vectors.filter((v) => formatKillScore(toDouble(v.bits)) !== v.fixed6);
    expect(mismatches).toEqual([]);
  });
});
