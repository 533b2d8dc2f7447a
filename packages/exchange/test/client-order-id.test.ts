import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CLIENT_ORDER_ID_PATTERN,
  clientOrderIdFor,
  isConditionalClientOrderId,
  isValidClientOrderId,
} from "../src/index.js";

describe("clientOrderIdFor", () => {
  it("derives the id from the plan id and purpose", () => {
    expect(clientOrderIdFor("ba3cbf84bf17f3a2")).toBe("qp3-c-ba3cbf84bf17f3a2");
    expect(clientOrderIdFor("ba3cbf84bf17f3a2", "stop")).toBe("qp3-s-ba3cbf84bf17f3a2");
  });

  it("hashes plan ids that are too long or have other characters, deterministically", () => {
    const long = "x".repeat(40);
    expect(clientOrderIdFor(long)).toBe(clientOrderIdFor(long));
    expect(clientOrderIdFor(long)).toMatch(/^qp3-c-[0-9a-f]{24}$/);
    expect(clientOrderIdFor("plan id with spaces")).toMatch(/^qp3-c-[0-9a-f]{24}$/);
    expect(clientOrderIdFor("")).toMatch(/^qp3-c-[0-9a-f]{24}$/);
    expect(isValidClientOrderId("has space")).toBe(false);
  });

  it("property: always valid for Binance, ≤ 36 chars, stable, distinct per purpose", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (planId) => {
        const close = clientOrderIdFor(planId);
        const stop = clientOrderIdFor(planId, "stop");
        expect(close.length).toBeLessThanOrEqual(36);
        expect(CLIENT_ORDER_ID_PATTERN.test(close)).toBe(true);
        expect(CLIENT_ORDER_ID_PATTERN.test(stop)).toBe(true);
        expect(clientOrderIdFor(planId)).toBe(close);
        expect(stop).not.toBe(close);
      }),
      { numRuns: 1000 },
    );
  });

  it("chunk i > 0 of a close ends in -<i>; restored stops are conditional like stops", () => {
    expect(clientOrderIdFor("ba3cbf84bf17f3a2", "close", 0)).toBe("qp3-c-ba3cbf84bf17f3a2");
    expect(clientOrderIdFor("ba3cbf84bf17f3a2", "close", 2)).toBe("qp3-c-ba3cbf84bf17f3a2-2");
    expect(clientOrderIdFor("ba3cbf84bf17f3a2", "restore")).toBe("qp3-r-ba3cbf84bf17f3a2");
    expect(isConditionalClientOrderId("qp3-r-ba3cbf84bf17f3a2")).toBe(true);
    expect(isConditionalClientOrderId("qp3-s-ba3cbf84bf17f3a2")).toBe(true);
    expect(isConditionalClientOrderId("qp3-c-ba3cbf84bf17f3a2-2")).toBe(false);
    expect(() => clientOrderIdFor("ba3cbf84bf17f3a2", "close", -1)).toThrow(RangeError);
  });

  it("property: chunk ids are valid, ≤ 36 chars and distinct per chunk", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.integer({ min: 1, max: 99_999 }), (planId, chunk) => {
        const id = clientOrderIdFor(planId, "close", chunk);
        expect(CLIENT_ORDER_ID_PATTERN.test(id)).toBe(true);
        expect(id).not.toBe(clientOrderIdFor(planId, "close", chunk === 1 ? 2 : chunk - 1));
        expect(id).not.toBe(clientOrderIdFor(planId));
      }),
      { numRuns: 500 },
    );
  });

  it("property: different 16-hex plan ids never share an id", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-f]{16}$/), fc.stringMatching(/^[0-9a-f]{16}$/), (a, b) => {
        fc.pre(a !== b);
        expect(clientOrderIdFor(a)).not.toBe(clientOrderIdFor(b));
      }),
    );
  });
});
