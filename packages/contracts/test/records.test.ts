import { describe, expect, it } from "vitest";
import {
  buildDeadLetter,
  decodeAuditEntry,
  decodeDeadLetter,
  decodeExecRecord,
  decodeP35Alert,
  decodePaperPosition,
  decodePositionLedger,
  decodePositionSnapshot,
  decodePositionView,
  EncodeError,
  encodeAuditEntry,
  encodeDeadLetter,
  encodeExecRecordPatch,
  encodeP35Alert,
  encodePositionLedgerPatch,
  encodePositionView,
  execRecordFields,
  MAX_RAW_VALUE_CHARS,
  p35AlertId,
} from "../src/index.js";
import { HUGE_TEXT } from "./arbitraries.js";

function expectField(r: { ok: boolean; error?: { field: string } }, field: string) {
  expect(r.ok).toBe(false);
  expect(r.error?.field).toBe(field);
}

describe("ExecRecord", () => {
  const claimed = {
    state: "CLAIMED",
    plan_id: "ba3cbf84bf17f3a2",
    symbol: "BTCUSDT",
    created_at: "1769928600.5",
  };

  it("reads the record exactly as the consume script creates it", () => {
    expect(decodeExecRecord(claimed)).toEqual({
      ok: true,
      value: {
        state: "CLAIMED",
        planId: "ba3cbf84bf17f3a2",
        symbol: "BTCUSDT",
        createdAt: 1769928600.5,
        resultPublished: false,
      },
    });
    expect(execRecordFields).toMatchObject({
      state: "state",
      planId: "plan_id",
      symbol: "symbol",
      createdAt: "created_at",
      updatedAt: "updated_at",
      resultPublished: "result_published",
    });
  });

  it("encodes patches for state changes, validating each field", () => {
    const patch = encodeExecRecordPatch({
      state: "SUBMITTING",
      updatedAt: 1769928601,
      clientOrderId: "q3-ba3cbf84bf17f3a2",
      side: "SELL",
      qty: "0.010",
    });
    expect(patch).toEqual({
      state: "SUBMITTING",
      updated_at: "1769928601",
      client_order_id: "q3-ba3cbf84bf17f3a2",
      side: "SELL",
      qty: "0.010",
    });
    const after = decodeExecRecord({
      ...claimed,
      ...patch,
      ...encodeExecRecordPatch({ resultPublished: true }),
    });
    expect(after.ok && [after.value.state, after.value.qty, after.value.resultPublished]).toEqual([
      "SUBMITTING",
      "0.010",
      true,
    ]);
    expect(() => encodeExecRecordPatch({ qty: "1e-3" })).toThrow(EncodeError);
    expect(() => encodeExecRecordPatch({ clientOrderId: "x".repeat(37) })).toThrow(/client_order_id/);
  });

  it.each([
    ["state", "DONE?"],
    ["plan_id", "short"],
    ["created_at", "yesterday"],
    ["updated_at", "NaN"],
    ["executed_qty", "1e5"],
    ["result_published", "maybe"],
  ])("rejects %s=%j", (field, value) => {
    expectField(decodeExecRecord({ ...claimed, [field]: value }), field);
  });

  it("rejects an empty hash (HGETALL of a missing key)", () => {
    expectField(decodeExecRecord({}), "state");
  });
});

describe("positions", () => {
  it("reads a snapshot", () => {
    const r = decodePositionSnapshot({
      position_amt: "-0.010",
      side: "SHORT",
      entry_price: "97000.1",
      mark_price: "96950.0",
      unrealized_pnl: "0.50100000",
      leverage: "20",
      ts_epoch: "1769928600.25",
      source: "binance_testnet",
    });
    expect(r.ok && r.value.positionAmt).toBe("-0.010");
    expectField(decodePositionSnapshot({}), "position_amt");
  });

  it("ledger patches carry only what is given", () => {
    expect(
      encodePositionLedgerPatch({ lastKnownAmt: "0.5", updatedAt: 1769928600, source: "operator" }),
    ).toEqual({
      last_known_amt: "0.5",
      updated_at: "1769928600",
      source: "operator",
    });
    expect(() => encodePositionLedgerPatch({ lastKnownAmt: "half" })).toThrow(/last_known_amt/);
    const r = decodePositionLedger({ last_known_amt: "0.5", updated_at: "1", source: "operator" });
    expect(r).toEqual({ ok: true, value: { lastKnownAmt: "0.5", updatedAt: 1, source: "operator" } });
  });

  it("view writes mismatch_since '' when there is no mismatch, so HSET clears it", () => {
    const wire = encodePositionView({
      exchangeAmt: "1",
      ledgerAmount: "1",
      mismatchSince: null,
      snapshotTs: 5,
    });
    expect(wire.mismatch_since).toBe("");
    const back = decodePositionView(wire);
    expect(back.ok && back.value.mismatchSince).toBeNull();
  });

  it("reads a paper position", () => {
    expect(decodePaperPosition({ position_amt: "0.01", entry_price: "100", mark_price: "101" }).ok).toBe(
      true,
    );
    expectField(
      decodePaperPosition({ position_amt: "0.01", entry_price: "100", mark_price: "1e2" }),
      "mark_price",
    );
  });
});

describe("P35Alert", () => {
  it("writes the alert hash fields as strings", () => {
    const alert = {
      window: "5m" as const,
      reason: "p33_permit_denied",
      score: 1234,
      total: 2000,
      share: 0.617,
      timestamp: 1769929500,
      severity: "HIGH" as const,
      alertId: p35AlertId(1769929500, "p33_permit_denied"),
    };
    const wire = encodeP35Alert(alert);
    expect(wire).toEqual({
      window: "5m",
      reason: "p33_permit_denied",
      score: "1234",
      total: "2000",
      share: "0.617",
      timestamp: "1769929500",
      severity: "HIGH",
      alert_id: "p35_alert_1769929500_p33_permit_denied",
    });
    expect(decodeP35Alert(wire)).toEqual({ ok: true, value: alert });
    expectField(decodeP35Alert({ ...wire, score: "3000" }), "score");
    expectField(decodeP35Alert({ ...wire, score: "12.5" }), "score");
    expectField(decodeP35Alert({ ...wire, severity: "LOW" }), "severity");
    expectField(decodeP35Alert({ ...wire, window: "2m" }), "window");
    expectField(decodeP35Alert({ ...wire, symbol: "BTCUSDT" }), "symbol");
  });

  it("adds the symbol to a stuck alert, and requires it there", () => {
    const alert = {
      window: "stuck" as const,
      reason: "p33_permit_denied",
      score: 7,
      total: 9,
      share: 0.7778,
      timestamp: 1769929500,
      severity: "HIGH" as const,
      alertId: p35AlertId(1769929500, "p33_permit_denied", "BTCUSDT"),
      symbol: "BTCUSDT",
    };
    const wire = encodeP35Alert(alert);
    expect(wire.symbol).toBe("BTCUSDT");
    expect(wire.alert_id).toBe("p35_alert_1769929500_p33_permit_denied_BTCUSDT");
    expect(decodeP35Alert(wire)).toEqual({ ok: true, value: alert });
    const { symbol: _dropped, ...withoutSymbol } = wire;
    expectField(decodeP35Alert(withoutSymbol), "symbol");
    expectField(decodeP35Alert({ ...wire, symbol: "btc usdt" }), "symbol");
  });
});

describe("AuditEntry", () => {
  it("round-trips, keeps empty text fields, and rejects a missing actor or a bad time", () => {
    const entry = {
      actor: "alice@ops1",
      command: "kill on",
      args: "[]",
      reason: "INC-123",
      before: "",
      after: "true",
      ts: 1769929500.25,
    };
    const wire = encodeAuditEntry(entry);
    expect(wire).toEqual({
      actor: "alice@ops1",
      command: "kill on",
      args: "[]",
      reason: "INC-123",
      before: "",
      after: "true",
      ts: "1769929500.25",
    });
    expect(decodeAuditEntry(wire)).toEqual({ ok: true, value: entry });
    const { before: _b, ...withoutBefore } = wire;
    expect(decodeAuditEntry(withoutBefore)).toEqual({ ok: true, value: entry });
    expectField(decodeAuditEntry({ ...wire, actor: "" }), "actor");
    expectField(decodeAuditEntry({ ...wire, ts: "yesterday" }), "ts");
    expectField(decodeAuditEntry({ ...wire, after: HUGE_TEXT }), "after");
  });
});

describe("DeadLetter", () => {
  it("keeps raw fields in one JSON field so they never collide with the envelope", () => {
    const dl = buildDeadLetter({
      stream: "quantum:stream:apply.plan",
      id: "1769928600000-0",
      service: "position-state-brain",
      error: "kill_score: not a number",
      raw: { error: "raw error field", stream: "raw stream", kill_score: "abc" },
      ts: 1769928600,
    });
    const wire = encodeDeadLetter(dl);
    expect(wire.error).toBe("kill_score: not a number");
    expect(wire.stream).toBe("quantum:stream:apply.plan");
    expect(JSON.parse(wire.raw!)).toEqual({
      error: "raw error field",
      stream: "raw stream",
      kill_score: "abc",
    });
    expect(wire).not.toHaveProperty("truncated");
    expect(decodeDeadLetter(wire)).toEqual({ ok: true, value: dl });
  });

  it("cuts raw values to 64 Ki chars and lists the cut fields", () => {
    const dl = buildDeadLetter({
      stream: "s",
      id: "1-0",
      service: "apply-layer",
      error: "e".repeat(10_000),
      raw: { big: HUGE_TEXT, small: "ok", emoji: `${"a".repeat(MAX_RAW_VALUE_CHARS - 1)}😀` },
      ts: 1,
    });
    expect(dl.raw.big!.length).toBe(MAX_RAW_VALUE_CHARS);
    expect(dl.raw.small).toBe("ok");
    expect(dl.raw.emoji!.length).toBe(MAX_RAW_VALUE_CHARS - 1); // never half a surrogate pair
    expect(dl.truncated).toEqual(["big", "emoji"]);
    expect(dl.error.length).toBe(4096);
    const back = decodeDeadLetter(encodeDeadLetter(dl));
    expect(back).toEqual({ ok: true, value: dl });
  });

  it("accepts any raw input without throwing", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const hostile = [
      ["k1", "v1", "dangling"],
      { n: 1, b: true, o: { x: [1] }, u: undefined, big: 10n, c: cyclic },
      "just a string",
      null,
      Buffer.from("bytes"),
      {
        get boom(): string {
          throw new Error("getter");
        },
      },
    ];
    for (const raw of hostile) {
      const dl = buildDeadLetter({ stream: "", id: "", service: "svc", error: "x", raw, ts: Number.NaN });
      expect(decodeDeadLetter(encodeDeadLetter(dl)).ok).toBe(true);
    }
    expect(
      buildDeadLetter({ stream: "s", id: "1", service: "x", error: "", raw: ["k", "v"], ts: 1 }).raw,
    ).toEqual({
      k: "v",
    });
  });
});
