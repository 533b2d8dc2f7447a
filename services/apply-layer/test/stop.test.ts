import { decodeExecRecord, MAX_DETAIL_CHARS } from "@quantum/contracts";
import { describe, expect, it } from "vitest";
import { contextFields, resultFromRecord, type StoredRecord } from "../src/execution/execution-record.js";
import { stopWith } from "../src/execution/stop.js";
import { decide, type PlanningRules } from "../src/plan-gates.js";
import { buildResult, DRY_RUN_CONTEXT, detailOf } from "../src/result-publisher.js";

function stored(extra: Record<string, string>): StoredRecord {
  const raw = {
    state: "DONE",
    plan_id: "ba3cbf84bf17f3a2",
    symbol: "BTCUSDT",
    created_at: "1769900000.000",
    ...extra,
  };
  const decoded = decodeExecRecord(raw);
  if (!decoded.ok) throw decoded.error;
  return { record: decoded.value, raw };
}

describe("a stop", () => {
  it("carries a reason from the contracts' list and its context", () => {
    expect(stopWith("BLOCKED", "invalid_safe_qty", { safe_qty: "0" })).toEqual({
      decision: "BLOCKED",
      reason: "invalid_safe_qty",
      context: { safe_qty: "0" },
    });
    expect(stopWith("ERROR", "internal_error", {}, "error").status).toBe("error");
  });

  it("cannot be built with a reason outside the list", () => {
    // @ts-expect-error: not an ApplyReason
    expect(() => stopWith("BLOCKED", "made_up_reason", {})).toThrow(
      /not an Apply Layer reason: made_up_reason/,
    );
    // @ts-expect-error: P3.3's reasons are its own; the Apply Layer reports them as p33_permit_denied
    expect(() => stopWith("BLOCKED", "reconcile_hold_active")).toThrow(RangeError);
  });
});

describe("the detail of a result", () => {
  const rules: PlanningRules = {
    envKillSwitch: false,
    allowlist: new Set(["BTCUSDT"]),
    kBlockCritical: 0.8,
    kBlockWarning: 0.6,
  };

  it("is the stop's context rendered", () => {
    const stop = stopWith("BLOCKED", "exchange_rate_limited", { retry_after_ms: 1500, sent: false });
    const result = buildResult({ planId: "p", symbol: "BTCUSDT", ...stop, executed: false }, "paper", 1);
    expect(result).toMatchObject({
      reason: "exchange_rate_limited",
      detail: "retry_after_ms=1500 sent=false",
    });
    expect(detailOf({ context: DRY_RUN_CONTEXT })).toBe("mode=dry_run consumed=false sent=false");
    expect(detailOf({})).toBe("");
  });

  it("of a planning gate names the facts the gate judged", () => {
    const p = {
      symbol: "ETHUSDT",
      action: "FULL_CLOSE_PROPOSED",
      killScore: 0.9,
      newSlProposed: null,
    } as Parameters<typeof decide>[0];
    expect(detailOf(decide(p, rules, { executed: false }))).toBe("symbol=ETHUSDT");
    const critical = decide({ ...p, symbol: "BTCUSDT" }, rules, { executed: false });
    expect(critical.reason).toBe("kill_score_critical");
    expect(detailOf(critical)).toBe("kill_score=0.9 k_block_critical=0.8");
  });

  it("is clamped to the wire's limit", () => {
    expect(detailOf({ context: { error: "x".repeat(5000) } }).length).toBe(MAX_DETAIL_CHARS);
  });
});

describe("a stop stored in the execution record", () => {
  it("is published again with the same detail", () => {
    const context = { interrupted: "before_submit", sent: false };
    const back = resultFromRecord(
      stored({ ...contextFields({ context }), decision: "ERROR", reason: "internal_error", executed: "0" }),
    );
    expect(back).toMatchObject({ decision: "ERROR", reason: "internal_error", context });
    expect(detailOf(back)).toBe("interrupted=before_submit sent=false");
  });

  it("with a reason outside the list is read back as internal_error", () => {
    const back = resultFromRecord(stored({ decision: "BLOCKED", reason: "made_up_reason", executed: "0" }));
    expect(back).toMatchObject({ decision: "BLOCKED", reason: "internal_error" });
  });

  it("with an unreadable context keeps its detail text as the note", () => {
    const back = resultFromRecord(
      stored({
        detail: "written by hand",
        context: "{not json",
        decision: "ERROR",
        reason: "internal_error",
      }),
    );
    expect(back.context).toEqual({ note: "written by hand" });
    expect(detailOf(back)).toBe('note="written by hand"');
  });
});
