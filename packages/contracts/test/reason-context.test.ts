import { describe, expect, it } from "vitest";
import { contextOfJson, decodeReasonContext, type ReasonContext, renderContext } from "../src/index.js";

describe("renderContext", () => {
  it("writes key=value pairs in the context's key order", () => {
    expect(renderContext({ safe_qty: "0.0004", step: "0.001", min: "0.001", max: "1000" })).toBe(
      "safe_qty=0.0004 step=0.001 min=0.001 max=1000",
    );
    expect(renderContext({ max: "1000", safe_qty: "0.0004" })).toBe("max=1000 safe_qty=0.0004");
  });

  it("writes numbers, booleans and null as themselves", () => {
    expect(
      renderContext({ waited_ms: 5000, age_seconds: 1.25, sent: false, placed: true, since: null }),
    ).toBe("waited_ms=5000 age_seconds=1.25 sent=false placed=true since=null");
    expect(renderContext({ code: -2022 })).toBe("code=-2022");
  });

  it("quotes a string that is empty or holds a space, quote, equals sign or backslash", () => {
    expect(renderContext({ msg: "ReduceOnly Order is rejected." })).toBe(
      'msg="ReduceOnly Order is rejected."',
    );
    expect(renderContext({ a: "", b: 'say "hi"', c: "k=v", d: "x\\y" })).toBe(
      'a="" b="say \\"hi\\"" c="k=v" d="x\\\\y"',
    );
    expect(renderContext({ at: "2026-02-01T06:50:00.000Z" })).toBe("at=2026-02-01T06:50:00.000Z");
  });

  it("is empty for an empty context", () => {
    expect(renderContext({})).toBe("");
  });

  it("splits back into its pairs: every quoted value is a JSON string", () => {
    const context: ReasonContext = { error: "connect ECONNREFUSED 127.0.0.1:1", n: 3, note: 'a "b" = c' };
    const pairs = [...renderContext(context).matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)].map(([, k, v]) => [
      k,
      (v as string).startsWith('"') ? JSON.parse(v as string) : v,
    ]);
    expect(pairs).toEqual([
      ["error", "connect ECONNREFUSED 127.0.0.1:1"],
      ["n", "3"],
      ["note", 'a "b" = c'],
    ]);
  });
});

describe("contextOfJson", () => {
  it("keeps scalars and writes lists and objects as their JSON text", () => {
    expect(contextOfJson({ age_seconds: 31.5, hold: null, legs: ["LONG"], nested: { a: 1 } })).toEqual({
      age_seconds: 31.5,
      hold: null,
      legs: '["LONG"]',
      nested: '{"a":1}',
    });
  });
});

describe("decodeReasonContext", () => {
  it("reads back what a context's JSON holds", () => {
    const context: ReasonContext = { interrupted: "before_submit", chunks: 2, sent: false, since: null };
    expect(decodeReasonContext(JSON.stringify(context))).toEqual({ ok: true, value: context });
  });

  it.each([
    [undefined, "missing"],
    ["not json", "invalid JSON"],
    ["[1]", "expected a JSON object"],
    ['{"a":{"b":1}}', "context.a"],
    ['{"a":[1]}', "context.a"],
  ])("refuses %j (%s)", (raw, message) => {
    const out = decodeReasonContext(raw);
    expect(out.ok).toBe(false);
    if (!out.ok) expect(`${out.error.field} ${out.error.message}`).toContain(message);
  });
});
