import { APPLY_REASONS } from "@quantum/contracts";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_FIELD_CHARS, normalizeResult, P35_DECISIONS, parseTimestamp } from "../src/normalize.js";
import { bucketId, bucketIdOfSec } from "../src/time.js";

const ID = "1769929500123-0"; // 2026-02-01T07:05:00.123Z

function ok(fields: unknown, id: string | undefined = ID) {
  const r = normalizeResult(fields, id);
  if (!r.ok) throw new Error(`expected ok, got ${r.error.message}`);
  return r.value;
}

function bad(fields: unknown, id: string | undefined = ID) {
  const r = normalizeResult(fields, id);
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.value)}`);
  return r.error;
}

describe("decision mapping", () => {
  it.each([
    ["EXECUTE", "EXECUTE"],
    ["EXECUTED", "EXECUTE"],
    ["exec", "EXECUTE"],
    ["SKIP", "SKIP"],
    ["skipped", "SKIP"],
    ["BLOCKED", "BLOCKED"],
    ["Block", "BLOCKED"],
    ["ERROR", "ERROR"],
    ["FAILED", "ERROR"],
    ["fail", "ERROR"],
    [" SKIP ", "SKIP"],
  ])("decision %j → %s", (raw, expected) => {
    const v = ok({ decision: raw, symbol: "BTCUSDT", timestamp: "1769929500" });
    expect(v.decision).toBe(expected);
    expect(v.rawDecision).toBe(raw.trim());
  });

  it("RECONCILE_CLOSE is EXECUTE when executed, else BLOCKED", () => {
    expect(ok({ decision: "RECONCILE_CLOSE", executed: "True" }).decision).toBe("EXECUTE");
    expect(ok({ decision: "RECONCILE_CLOSE", executed: "1" }).decision).toBe("EXECUTE");
    expect(ok({ decision: "RECONCILE_CLOSE", executed: "False" }).decision).toBe("BLOCKED");
    expect(ok({ decision: "RECONCILE_CLOSE" }).decision).toBe("BLOCKED");
  });

  it("an unknown decision is UNKNOWN and keeps its raw text (clamped)", () => {
    const v = ok({ decision: "MAYBE_LATER", executed: "true" });
    expect(v).toMatchObject({ decision: "UNKNOWN", rawDecision: "MAYBE_LATER" });
    expect(ok({ decision: "x".repeat(500) }).rawDecision).toHaveLength(64);
  });

  it("without a decision, executed decides: true/1 → EXECUTE, false/0 → BLOCKED with a reason, else SKIP", () => {
    for (const t of ["true", "True", "TRUE", "1"]) expect(ok({ executed: t }).decision).toBe("EXECUTE");
    for (const f of ["false", "False", "0"]) {
      expect(ok({ executed: f }).decision).toBe("SKIP");
      expect(ok({ executed: f, error: "kill_switch_active" }).decision).toBe("BLOCKED");
    }
    // empty / Python None / null count as no decision
    expect(ok({ decision: "", executed: "True" }).decision).toBe("EXECUTE");
    expect(ok({ decision: "None", executed: "False", reason: "action_hold" }).decision).toBe("BLOCKED");
    expect(ok({ decision: "null", executed: "False" }).decision).toBe("SKIP");
  });

  it("neither a decision nor a usable executed → UNKNOWN with empty raw text", () => {
    expect(ok({ symbol: "BTCUSDT" })).toMatchObject({ decision: "UNKNOWN", rawDecision: "" });
    expect(ok({ executed: "maybe" })).toMatchObject({ decision: "UNKNOWN", rawDecision: "" });
  });
});

describe("reason", () => {
  it("this Apply Layer's format: reason, none on success", () => {
    const v = ok({
      plan_id: "ba3cbf84bf17f3a2",
      symbol: "BTCUSDT",
      decision: "EXECUTE",
      executed: "True",
      would_execute: "True",
      reason: "none",
      error: "",
      detail: "",
      steps_results: "[]",
      timestamp: "1769929500.25",
      source: "apply_layer",
      v: "1",
    });
    expect(v).toMatchObject({ decision: "EXECUTE", reason: "none", symbol: "BTCUSDT", tsSec: 1769929500.25 });
    expect(v.tsSource).toBe("timestamp");
  });

  it("precedence: reason, then error, then error inside details JSON, else none", () => {
    expect(ok({ reason: "action_hold", error: "kill_switch_active" }).reason).toBe("action_hold");
    expect(ok({ error: "kill_switch_active", details: '{"error":"x"}' }).reason).toBe("kill_switch_active");
    expect(ok({ details: '{"error":"p33_permit_denied: no_position"}' })).toMatchObject({
      reason: "p33_permit_denied",
      detail: "no_position",
    });
    expect(ok({ details: "{'error': 'governor_blocked', 'x': 1}" }).reason).toBe("governor_blocked");
    expect(ok({ details: "not json" }).reason).toBe("none");
    expect(ok({ reason: "None", error: "none" }).reason).toBe("none");
    // an explicit "none" reason does not hide an error of another producer
    expect(ok({ reason: "none", error: "exchange_rejected" }).reason).toBe("exchange_rejected");
  });

  it("is bounded: known codes with qualifiers kept, free text after ':' goes to detail", () => {
    expect(ok({ reason: "permit_timeout_or_missing:missing_p33" }).reason).toBe(
      "permit_timeout_or_missing:missing_p33",
    );
    expect(ok({ error: "exchange_rejected: -2022 ReduceOnly Order is rejected" })).toMatchObject({
      reason: "exchange_rejected",
      detail: "-2022 ReduceOnly Order is rejected",
    });
    expect(ok({ error: "Order would immediately trigger: code -2021" })).toMatchObject({
      reason: "order_would_immediately_trigger",
      detail: "code -2021",
    });
    const v = ok({ reason: "A".repeat(1000) });
    expect(v.reason).toMatch(/^[a-z0-9_:]{1,64}$/);
  });

  it("uses the entry's detail when the reason has no qualifier", () => {
    expect(ok({ reason: "p33_permit_denied", detail: "no_position" }).detail).toBe("no_position");
  });
});

describe("time", () => {
  it("reads seconds, milliseconds, microseconds and ISO-8601", () => {
    expect(parseTimestamp("1769929500")).toBe(1769929500);
    expect(parseTimestamp("1769929500.5")).toBe(1769929500.5);
    expect(parseTimestamp("1769929500123")).toBe(1769929500.123);
    expect(parseTimestamp("1769929500123456")).toBeCloseTo(1769929500.123456, 5);
    expect(parseTimestamp("2026-02-01T07:05:00Z")).toBe(1769929500);
    expect(parseTimestamp("garbage")).toBeNull();
    expect(parseTimestamp("-5")).toBeNull();
    expect(parseTimestamp("5")).toBeNull(); // 1970: implausible
  });

  it("falls back to the stream id's time when the timestamp is missing or garbage", () => {
    for (const ts of [undefined, "", "soon", "NaN", "1e400", "0"]) {
      const fields = ts === undefined ? { executed: "true" } : { executed: "true", timestamp: ts };
      const v = ok(fields);
      expect(v.tsSec).toBe(1769929500.123);
      expect(v.tsSource).toBe("stream_id");
    }
    expect(normalizeResult({ executed: "true" }, "nope").ok).toBe(false);
    // A stream id past the last instant a bucket id can express is no usable time either.
    expect(normalizeResult({ executed: "true" }, "9999999999999999-0").ok).toBe(false);
  });

  it("buckets are UTC minutes YYYYMMDDHHMM", () => {
    expect(bucketIdOfSec(1769929500.123)).toBe("202602010705");
    expect(bucketIdOfSec(1769929559.999)).toBe("202602010705");
    expect(bucketIdOfSec(1769929560)).toBe("202602010706");
    expect(bucketId(0)).toBe("197001010000");
  });

  it("no usable timestamp and no stream id → malformed", () => {
    const r = normalizeResult({ executed: "true" });
    expect(r.ok ? null : r.error.field).toBe("timestamp");
    expect(bad({ executed: "true", timestamp: "x" }, "garbage").field).toBe("timestamp");
  });
});

describe("malformed entries (dead-lettered)", () => {
  it("rejects a non-map, a bad symbol, an oversized field, a non-string value", () => {
    expect(bad(null).field).toBe("$");
    expect(bad(["decision", "SKIP"]).field).toBe("$");
    expect(bad("decision=SKIP").field).toBe("$");
    expect(bad({ symbol: "BTC-USDT!" }).field).toBe("symbol");
    expect(bad({ symbol: "X".repeat(1_000_000) }).field).toBe("symbol");
    expect(bad({ detail: "y".repeat(MAX_FIELD_CHARS + 1) }).field).toBe("detail");
    expect(bad({ executed: true }).field).toBe("executed");
    const e = bad({ symbol: "bad symbol" });
    expect(e.name).toBe("DecodeError");
    expect(e.code).toBe("decode_error");
  });

  it("accepts a lower-case symbol (upper-cased) and a missing symbol (no breakdown)", () => {
    expect(ok({ symbol: "ethusdt" }).symbol).toBe("ETHUSDT");
    expect(ok({ executed: "1" }).symbol).toBeNull();
  });
});

describe("properties", () => {
  const fieldNames = fc.constantFrom(
    "decision",
    "executed",
    "reason",
    "error",
    "details",
    "detail",
    "timestamp",
    "ts",
    "symbol",
    "plan_id",
  );
  const fieldValue = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom("True", "False", "1", "0", "EXECUTED", "RECONCILE_CLOSE", "None", "", "BTCUSDT"),
    fc.constantFrom(...APPLY_REASONS),
    fc.integer({ min: 0, max: 2 ** 53 - 1 }).map(String),
    fc.double().map(String),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.record({ error: fc.string() }).map((v) => JSON.stringify(v)),
  );
  const entry = fc.dictionary(fc.oneof(fieldNames, fc.string({ maxLength: 12 })), fieldValue, {
    maxKeys: 12,
  });
  const streamId = fc.oneof(
    fc
      .tuple(fc.integer({ min: 0, max: 2 ** 45 }), fc.integer({ min: 0, max: 99 }))
      .map(([a, b]) => `${a}-${b}`),
    fc.string(),
    fc.constant(undefined),
  );

  it("never throws on anything", () => {
    fc.assert(
      fc.property(fc.anything(), fc.option(fc.string(), { nil: undefined }), (input, id) => {
        normalizeResult(input, id);
      }),
      { numRuns: 2000 },
    );
  });

  it("is total on field maps: ok with a valid result, or a DecodeError naming a field", () => {
    fc.assert(
      fc.property(entry, streamId, (fields, id) => {
        const r = normalizeResult(fields, id);
        if (!r.ok) {
          expect(r.error.name).toBe("DecodeError");
          expect(r.error.field.length).toBeGreaterThan(0);
          return;
        }
        const v = r.value;
        expect(P35_DECISIONS).toContain(v.decision);
        expect(v.reason).toMatch(/^[a-z0-9_:]{1,64}$|^permit_timeout_or_missing:missing_[a-z0-9]+$/);
        expect(Number.isFinite(v.tsSec)).toBe(true);
        expect(bucketIdOfSec(v.tsSec)).toMatch(/^\d{12}$/);
        if (v.decision !== "UNKNOWN") expect(v.rawDecision.length).toBeLessThanOrEqual(64);
        if (v.symbol !== null) expect(v.symbol).toBe(v.symbol.toUpperCase());
      }),
      { numRuns: 3000 },
    );
  });

  it("entries with a stream id are only malformed because of their symbol or shape", () => {
    fc.assert(
      fc.property(entry, fc.integer({ min: 0, max: 2 ** 45 }), (fields, ms) => {
        const r = normalizeResult(fields, `${ms}-0`);
        if (!r.ok) expect(r.error.field).toBe("symbol");
      }),
      { numRuns: 2000 },
    );
  });

  it("is deterministic", () => {
    fc.assert(
      fc.property(entry, streamId, (fields, id) => {
        expect(normalizeResult(fields, id)).toEqual(normalizeResult(fields, id));
      }),
      { numRuns: 500 },
    );
  });
});
