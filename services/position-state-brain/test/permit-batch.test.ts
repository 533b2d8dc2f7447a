import { describe, expect, it } from "vitest";
import { type PermitRules, permitsFor, symbolStateOf, warmUpPermitPath } from "../src/permit-batch.js";
import { makePlan } from "./helpers.js";

const rules: PermitRules = {
  allow: new Set(["BTCUSDT"]),
  stepSize: () => "0.001",
  staleThresholdSec: 10,
  cooldownSec: 60,
  tolerancePct: 1,
  venue: "paper",
};

describe("permit batch (pure steps)", () => {
  it("builds each plan's permit from the symbol state read in one reply row", () => {
    const nowMs = Date.now();
    const snapshot = [
      "position_amt",
      "0.5",
      "side",
      "LONG",
      "entry_price",
      "100",
      "mark_price",
      "101",
      "unrealized_pnl",
      "0.5",
      "leverage",
      "5",
      "ts_epoch",
      String(nowMs / 1000),
      "source",
      "paper",
    ];
    const state = new Map([["BTCUSDT", symbolStateOf([snapshot, "0.5", "00000000000000aa", null, null])]]);
    const plan = makePlan("BTCUSDT", { action: "PARTIAL_50" });
    const held = new Map([["BTCUSDT", symbolStateOf([snapshot, "0.5", null, null, "operator"])]]);
    const [allow] = permitsFor([{ id: "1-0", plan }], state, rules, nowMs);
    const [deny] = permitsFor([{ id: "1-0", plan }], held, rules, nowMs);
    expect(allow?.permit).toMatchObject({
      allow: true,
      safeQty: "0.250",
      ledgerResultPlanId: "00000000000000aa",
    });
    expect(deny?.permit).toMatchObject({ allow: false, reason: "reconcile_hold_active" });
    expect(() => symbolStateOf(["not", "a", "row"])).toThrow(/unexpected reply/);
  });

  it("the startup warm-up runs allow and deny permits through every pure step", () => {
    const built = warmUpPermitPath(rules, 200);
    expect(built.allow + built.deny).toBe(200);
    expect(built.allow).toBeGreaterThan(50);
    expect(built.deny).toBeGreaterThan(20);
  });
});
