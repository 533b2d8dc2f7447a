import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeP33Permit, EncodeError, encodeP33Permit, type P33Permit } from "../src/index.js";
import { p33PermitWire } from "../src/messages/permits.js";
import * as arb from "./arbitraries.js";

/**
 * encodeP33Permit judges the value directly instead of decoding the JSON it wrote. These properties hold it to
 * the decoder: it refuses exactly the permits whose JSON `decodeP33Permit` refuses, naming the same field.
 */

/** The JSON a permit is written as, without any check (the oracle's input). */
const wireJson = (p: P33Permit): string => JSON.stringify(p33PermitWire(p));

const hostile = fc.oneof(
  fc.constantFrom(
    undefined,
    null,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    -1,
    -0,
    0,
    1.5,
    "",
    " 1",
    "1e5",
    "-1.5",
    "0.010",
    "abc",
    "BTC USDT",
    "BTCUSDT",
    "paper",
    "mainnet",
    "LONG",
    "BOTH",
    "x".repeat(64),
    "x".repeat(65),
    "𐀀".repeat(64),
    "9".repeat(401),
    "1769928600.5",
    {},
    [],
    [1],
    { a: 1 },
  ),
  fc.string(),
  fc.double(),
);

/** A permit with some of its fields replaced by hostile values. */
const mangled: fc.Arbitrary<P33Permit> = fc
  .tuple(arb.p33Permit, fc.array(fc.tuple(fc.nat(11), hostile), { maxLength: 3 }))
  .map(([p, muts]) => {
    const out: Record<string, unknown> = { ...p };
    const keys = Object.keys(p).filter((k) => k !== "allow" && !(p.allow && k === "reason"));
    for (const [i, v] of muts) out[keys[i % keys.length] as string] = v;
    return out as unknown as P33Permit;
  });

function outcome(fn: () => string): { ok: true; json: string } | { ok: false; field: string } {
  try {
    return { ok: true, json: fn() };
  } catch (err) {
    if (!(err instanceof EncodeError)) throw err;
    return { ok: false, field: err.field };
  }
}

describe("encodeP33Permit agrees with decodeP33Permit", () => {
  it("refuses exactly what the decoder refuses, naming the same field", () => {
    fc.assert(
      fc.property(mangled, (p) => {
        const encoded = outcome(() => encodeP33Permit(p));
        const decoded = decodeP33Permit(wireJson(p));
        if (decoded.ok) {
          expect(encoded).toEqual({ ok: true, json: wireJson(p) });
        } else {
          expect(encoded).toEqual({ ok: false, field: decoded.error.field });
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("refuses a permit with a bad basis id or an oversized deny context", () => {
    const allow: P33Permit = {
      allow: true,
      symbol: "BTCUSDT",
      safeQty: "0.010",
      exchangePositionAmt: "0.010",
      ledgerAmt: "0.010",
      createdAt: 1,
      reason: "sanity_checks_passed",
      venue: "paper",
      positionSide: "BOTH",
      ledgerResultPlanId: "x".repeat(65),
      snapshotTs: 1,
    };
    expect(() => encodeP33Permit(allow)).toThrow(/ledger_result_plan_id/);
    expect(() => encodeP33Permit({ ...allow, ledgerResultPlanId: "" })).toThrow(/ledger_result_plan_id/);
    expect(() => encodeP33Permit({ ...allow, ledgerResultPlanId: null, ledgerAmt: "1e5" })).toThrow(
      /ledger_amt/,
    );
    const deny: P33Permit = {
      allow: false,
      symbol: "BTCUSDT",
      reason: "reconcile_hold_active",
      context: { hold: arb.HUGE_TEXT },
      createdAt: 1,
    };
    expect(() => encodeP33Permit(deny)).toThrow(EncodeError);
  });
});
