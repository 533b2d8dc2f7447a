import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  DecodeError,
  decimalString,
  decodeApplyPlan,
  decodeHarvestProposal,
  decodeWith,
  EncodeError,
  fields,
  fieldsToRecord,
  isDecimalString,
  numberToDecimalString,
  parseJson,
  recordToFields,
} from "../src/index.js";

describe("fieldsToRecord / recordToFields", () => {
  it("turns an XREAD field array into a record and back", () => {
    const rec = fieldsToRecord(["plan_id", "abc", "symbol", "BTCUSDT"]);
    expect({ ...rec }).toEqual({ plan_id: "abc", symbol: "BTCUSDT" });
    expect(recordToFields(rec)).toEqual(["plan_id", "abc", "symbol", "BTCUSDT"]);
  });

  it("keeps the last value of a repeated field and drops a dangling key", () => {
    expect({ ...fieldsToRecord(["a", "1", "a", "2", "b"]) }).toEqual({ a: "2" });
  });

  it("treats __proto__ and constructor as ordinary fields", () => {
    const rec = fieldsToRecord(["__proto__", "x", "constructor", "y"]);
    expect(Object.entries(rec)).toEqual([
      ["__proto__", "x"],
      ["constructor", "y"],
    ]);
    expect(Object.getPrototypeOf(rec)).toBeNull();
  });

  it("round-trips any field map", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.string({ unit: "binary" })), (dict) => {
        const back = fieldsToRecord(recordToFields(dict));
        expect({ ...back }).toEqual({ ...dict });
      }),
    );
  });
});

describe("DecodeError / EncodeError", () => {
  it("carry name, code, field and message", () => {
    const d = new DecodeError("kill_score", "not a number");
    expect(d).toBeInstanceOf(Error);
    expect(d.name).toBe("DecodeError");
    expect(d.code).toBe("decode_error");
    expect(d.field).toBe("kill_score");
    expect(d.problem).toBe("not a number");
    expect(d.message).toBe("kill_score: not a number");
    const e = new EncodeError("close_qty", "not a decimal string");
    expect([e.name, e.code, e.field, e.message]).toEqual([
      "EncodeError",
      "encode_error",
      "close_qty",
      "close_qty: not a decimal string",
    ]);
  });
});

describe("decodeWith", () => {
  const schema = z.object({ a: z.string(), b: z.object({ c: z.number() }) });

  it("names the top-level field of the first issue", () => {
    const r = decodeWith(schema, { a: "x", b: { c: "no" } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.field).toBe("b");
  });

  it("turns anything thrown inside the schema into an error on $", () => {
    const throwing = z.string().transform(() => {
      throw new Error("boom");
    });
    const r = decodeWith(throwing, "x");
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.field).toBe("$");
      expect(r.error.message).toContain("boom");
    }
    const getter = {
      get a(): string {
        throw new Error("getter");
      },
    };
    expect(decodeWith(schema, getter).ok).toBe(false);
  });

  it("parseJson never throws", () => {
    expect(parseJson("{").ok).toBe(false);
    expect(parseJson(undefined).ok).toBe(false);
    expect(parseJson(`${"[".repeat(200_000)}${"]".repeat(200_000)}`).ok).toBeTypeOf("boolean");
    expect(parseJson('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
  });
});

describe("decimal strings", () => {
  it.each(["0", "0.001", "-1.5", "123456789.123456789", "007", "-0"])("accepts %s", (s) => {
    expect(isDecimalString(s)).toBe(true);
    expect(decimalString.safeParse(s).success).toBe(true);
  });

  it.each(["", "1e-5", "NaN", "Infinity", "+1", ".5", "1.", " 1", "1 ", "0x10", "1,5", "--1", "1_000"])(
    "rejects %j",
    (s) => {
      expect(isDecimalString(s)).toBe(false);
      expect(decimalString.safeParse(s).success).toBe(false);
    },
  );

  it("rejects non-strings and huge strings", () => {
    expect(isDecimalString(1)).toBe(false);
    expect(isDecimalString("9".repeat(1 << 20))).toBe(false);
  });

  it.each([
    [0, "0"],
    [-0, "-0"],
    [41000, "41000"],
    [1e-7, "0.0000001"],
    [1e21, "1000000000000000000000"],
    [-2.5, "-2.5"],
    [0.1 + 0.2, "0.30000000000000004"],
  ])("numberToDecimalString(%s) = %s", (n, expected) => {
    expect(numberToDecimalString(n)).toBe(expected);
  });

  it("numberToDecimalString is a decimal string that reads back as the same number", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        const s = numberToDecimalString(n);
        expect(isDecimalString(s)).toBe(true);
        expect(Object.is(Number(s), n)).toBe(true);
      }),
    );
  });

  it("numberToDecimalString of a non-finite number is not a decimal string", () => {
    for (const n of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(isDecimalString(numberToDecimalString(n))).toBe(false);
    }
  });
});

describe("decoders never throw on exotic inputs", () => {
  it("returns an error for a revoked proxy", () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(decodeApplyPlan(proxy).ok).toBe(false);
    expect(decodeHarvestProposal(proxy).ok).toBe(false);
  });
});

describe("field codecs read without zod", () => {
  it("counts length bounds in code points, as zod's string bounds do", () => {
    const astral = "𐀀".repeat(8); // 8 code points, 16 UTF-16 units
    expect(fields.str(8).read(astral)).toEqual({ ok: true, value: astral });
    expect(fields.str(7).read(astral)).toEqual({ ok: false, problem: "longer than 7 chars" });
    const plan = decodeApplyPlan({ plan_id: `${astral}x`, symbol: "BTCUSDT" });
    expect(plan.ok || [plan.error.field, plan.error.problem]).toEqual([
      "plan_id",
      "not a plan id (16 hex chars)",
    ]);
  });
});
