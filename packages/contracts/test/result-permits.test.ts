import { describe, expect, it } from "vitest";
import {
  type ApplyResult,
  decodeApplyResult,
  decodeGovernorBlock,
  decodeGovernorPermit,
  decodeP33Permit,
  EncodeError,
  encodeApplyResult,
  encodeGovernorPermit,
  encodeP33Permit,
  errorFieldOf,
} from "../src/index.js";
import { HUGE_DIGITS, HUGE_TEXT } from "./arbitraries.js";

function expectField(r: { ok: boolean; error?: { field: string } }, field: string) {
  expect(r.ok).toBe(false);
  expect(r.error?.field).toBe(field);
}

const success: ApplyResult = {
  planId: "ba3cbf84bf17f3a2",
  symbol: "BTCUSDT",
  decision: "EXECUTE",
  executed: true,
  wouldExecute: true,
  reason: "none",
  detail: "",
  stepsResults: [{ step: "CLOSE_POSITION", status: "FILLED" }],
  timestamp: 1769928601.5,
  orderId: "8389765529",
  clientOrderId: "q3-ba3cbf84bf17f3a2",
  side: "SELL",
  executedQty: "0.010",
  avgPrice: "97000.10",
  permitWaitMs: 12.5,
  mode: "testnet",
};

describe("ApplyResult", () => {
  it("writes True/False, error '' on success, source and v", () => {
    expect(encodeApplyResult(success)).toEqual({
      plan_id: "ba3cbf84bf17f3a2",
      symbol: "BTCUSDT",
      decision: "EXECUTE",
      executed: "True",
      would_execute: "True",
      reason: "none",
      error: "",
      detail: "",
      steps_results: '[{"step":"CLOSE_POSITION","status":"FILLED"}]',
      timestamp: "1769928601.5",
      order_id: "8389765529",
      client_order_id: "q3-ba3cbf84bf17f3a2",
      side: "SELL",
      executed_qty: "0.010",
      avg_price: "97000.10",
      permit_wait_ms: "12.5",
      mode: "testnet",
      source: "apply_layer",
      v: "1",
    });
  });

  it("writes error = reason for a failure and leaves order fields out", () => {
    const blocked: ApplyResult = {
      planId: "9e5a2b596b707866",
      symbol: "ETHUSDT",
      decision: "BLOCKED",
      executed: false,
      wouldExecute: false,
      reason: "permit_timeout_or_missing:missing_p33",
      detail: "waited 1200 ms",
      stepsResults: [],
      timestamp: 1769928601,
    };
    const wire = encodeApplyResult(blocked);
    expect(wire.error).toBe("permit_timeout_or_missing:missing_p33");
    expect(Object.keys(wire)).not.toContain("order_id");
    expect(decodeApplyResult(wire)).toEqual({ ok: true, value: blocked });
    expect(errorFieldOf("none")).toBe("");
  });

  it.each([
    ["error", "something else"],
    ["error", "none"],
    ["decision", ""],
    ["decision", "UNKNOWN"],
    ["executed", "true"],
    ["would_execute", "1"],
    ["reason", "exchange_rejected: -2022"],
    ["reason", ""],
    ["detail", HUGE_TEXT],
    ["client_order_id", "has spaces in it"],
    ["side", "LONG"],
    ["executed_qty", HUGE_DIGITS],
    ["permit_wait_ms", "-5"],
    ["mode", "live"],
    ["source", "python"],
    ["v", "2"],
    ["steps_results", "nope"],
  ])("rejects %s=%j naming the field", (field, value) => {
    expectField(decodeApplyResult({ ...encodeApplyResult(success), [field]: value }), field);
  });

  it("requires source and v (strict, own results only)", () => {
    const { source: _s, ...noSource } = encodeApplyResult(success);
    expectField(decodeApplyResult(noSource), "source");
  });

  it("refuses to encode a free-text reason or an over-long detail", () => {
    expect(() => encodeApplyResult({ ...success, reason: "boom" as ApplyResult["reason"] })).toThrow(
      EncodeError,
    );
    expect(() => encodeApplyResult({ ...success, detail: "d".repeat(5000) })).toThrow(/detail/);
  });
});

describe("GovernorPermit", () => {
  it("reads a Python Governor's permit (floats as JSON numbers)", () => {
    const raw =
      '{"granted": true, "symbol": "BTCUSDT", "decision": "EXECUTE", "computed_qty": 0.002, ' +
      '"computed_notional": 194.5, "created_at": 1769928600.123, "consumed": false}';
    expect(decodeGovernorPermit(raw)).toEqual({
      ok: true,
      value: {
        granted: true,
        symbol: "BTCUSDT",
        decision: "EXECUTE",
        computedQty: "0.002",
        computedNotional: "194.5",
        createdAt: 1769928600.123,
        consumed: false,
      },
    });
  });

  it("writes quantities as decimal strings", () => {
    const json = encodeGovernorPermit({
      granted: true,
      symbol: "BTCUSDT",
      decision: "EXECUTE",
      computedQty: "0.002",
      computedNotional: null,
      createdAt: 1769928600,
      consumed: false,
    });
    expect(JSON.parse(json)).toEqual({
      granted: true,
      symbol: "BTCUSDT",
      decision: "EXECUTE",
      computed_qty: "0.002",
      computed_notional: null,
      created_at: 1769928600,
      consumed: false,
    });
  });

  it.each([
    ['{"granted": "yes", "symbol": "BTCUSDT", "decision": "EXECUTE", "created_at": 1}', "granted"],
    [
      '{"granted": true, "symbol": "BTCUSDT", "decision": "EXECUTE", "created_at": 1, "computed_qty": 1e309}',
      "computed_qty",
    ],
    ['{"granted": true, "symbol": "BTCUSDT", "decision": "EXECUTE", "created_at": "soon"}', "created_at"],
    ['{"granted": true, "symbol": "BTCUSDT", "decision": "EXECUTE"}', "created_at"],
    ["[true]", "$"],
    ["not json", "$"],
    [`{"pad": "${HUGE_TEXT}"}`, "$"],
  ])("rejects %s naming %s", (raw, field) => {
    expectField(decodeGovernorPermit(raw), field);
  });

  it("reports a missing key value", () => {
    expectField(decodeGovernorPermit(null), "$");
  });
});

describe("GovernorBlock", () => {
  it("reads the Governor's refusal, timestamp optional", () => {
    expect(
      decodeGovernorBlock('{"reason": "daily loss limit", "timestamp": 1769928600, "symbol": "BTCUSDT"}'),
    ).toEqual({
      ok: true,
      value: { reason: "daily loss limit", timestamp: 1769928600, symbol: "BTCUSDT" },
    });
    const r = decodeGovernorBlock('{"reason": "x", "symbol": "BTCUSDT"}');
    expect(r.ok && r.value.timestamp).toBeNull();
    expectField(decodeGovernorBlock('{"symbol": "BTCUSDT"}'), "reason");
  });
});

describe("P33Permit", () => {
  const allow = {
    allow: true as const,
    symbol: "BTCUSDT",
    safeQty: "0.010",
    exchangePositionAmt: "0.010",
    ledgerAmt: "0.010",
    createdAt: 1769928600.5,
    reason: "sanity_checks_passed" as const,
    venue: "paper" as const,
    positionSide: "BOTH" as const,
    ledgerResultPlanId: null,
    snapshotTs: 1769928600,
  };

  it("writes safe_close_qty equal to safe_qty", () => {
    const json = JSON.parse(encodeP33Permit(allow)) as Record<string, unknown>;
    expect(json.safe_qty).toBe("0.010");
    expect(json.safe_close_qty).toBe("0.010");
    expect(json.reason).toBe("sanity_checks_passed");
  });

  it("reads other writers that write only one of safe_qty / safe_close_qty, as numbers", () => {
    const onlyClose =
      '{"allow": true, "symbol": "BTCUSDT", "safe_close_qty": 0.002, "exchange_position_amt": -0.002, ' +
      '"ledger_amt": null, "created_at": 1769928600}';
    const r = decodeP33Permit(onlyClose);
    expect(
      r.ok && r.value.allow && [r.value.safeQty, r.value.exchangePositionAmt, r.value.ledgerAmt],
    ).toEqual(["0.002", "-0.002", null]);
    const onlySafe = onlyClose.replace("safe_close_qty", "safe_qty");
    const s = decodeP33Permit(onlySafe);
    expect(s.ok && s.value.allow && s.value.safeQty).toBe("0.002");
  });

  it("accepts both quantities when they agree in value, rejects disagreement or neither", () => {
    const base = { allow: true, symbol: "BTCUSDT", exchange_position_amt: "1", created_at: 1 };
    expect(decodeP33Permit(JSON.stringify({ ...base, safe_qty: "0.010", safe_close_qty: "0.01" })).ok).toBe(
      true,
    );
    expectField(
      decodeP33Permit(JSON.stringify({ ...base, safe_qty: "0.010", safe_close_qty: "0.02" })),
      "safe_close_qty",
    );
    expectField(decodeP33Permit(JSON.stringify(base)), "safe_qty");
    expectField(decodeP33Permit(JSON.stringify({ ...base, safe_qty: "NaN" })), "safe_qty");
  });

  it("reads a deny with its reason and context", () => {
    const deny = {
      allow: false as const,
      symbol: "BTCUSDT",
      reason: "stale_exchange_state",
      context: { age_seconds: 12.5 },
      createdAt: 1769928600,
    };
    expect(decodeP33Permit(encodeP33Permit(deny))).toEqual({ ok: true, value: deny });
    const noContext = decodeP33Permit(
      '{"allow": false, "symbol": "BTCUSDT", "reason": "no_position", "created_at": 1}',
    );
    expect(noContext.ok && !noContext.value.allow && noContext.value.context).toEqual({});
    expectField(
      decodeP33Permit(
        '{"allow": false, "symbol": "BTCUSDT", "reason": "x", "context": [1], "created_at": 1}',
      ),
      "context",
    );
    expectField(decodeP33Permit('{"allow": false, "symbol": "BTCUSDT", "created_at": 1}'), "reason");
  });

  it("requires a boolean allow", () => {
    expectField(decodeP33Permit('{"allow": "true", "symbol": "BTCUSDT"}'), "allow");
    expectField(decodeP33Permit('{"symbol": "BTCUSDT"}'), "allow");
  });
});
