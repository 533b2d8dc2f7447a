import type { HarvestProposal } from "@quantum/contracts";
import { describe, expect, it } from "vitest";
import { buildPlan, decide, GATES, type PlanningRules, planSteps } from "../src/plan-gates.js";

const rules: PlanningRules = {
  envKillSwitch: false,
  allowlist: new Set(["BTCUSDT"]),
  kBlockCritical: 0.8,
  kBlockWarning: 0.6,
};
const fresh = { executed: false };

function proposal(over: Partial<HarvestProposal> = {}): HarvestProposal {
  return {
    symbol: "BTCUSDT",
    action: "PARTIAL_50",
    calibrated: false,
    killScore: 0.3,
    kRegimeFlip: 0,
    kSigmaSpike: 0,
    kTsDrop: 0,
    kAgePenalty: 0,
    newSlProposed: null,
    rNet: 0,
    lastUpdateEpoch: null,
    computedAtUtc: "2026-02-01T06:50:00Z",
    reasonCodes: [],
    ...over,
  };
}

describe("planning gates (first match wins)", () => {
  it.each([
    [
      "env kill switch",
      { ...rules, envKillSwitch: true },
      proposal({ symbol: "ETHUSDT", killScore: 0.95 }),
      "BLOCKED",
      "kill_switch_active",
    ],
    ["not allowlisted", rules, proposal({ symbol: "ETHUSDT", killScore: 0.95 }), "SKIP", "not_in_allowlist"],
    [
      "critical kill score",
      rules,
      proposal({ killScore: 0.8, action: "HOLD" }),
      "BLOCKED",
      "kill_score_critical",
    ],
    [
      "warning, not a close",
      rules,
      proposal({ killScore: 0.6, action: "HOLD" }),
      "BLOCKED",
      "kill_score_warning_risk_increase",
    ],
    [
      "warning, UPDATE_SL",
      rules,
      proposal({ killScore: 0.7, action: "UPDATE_SL", newSlProposed: 41000 }),
      "BLOCKED",
      "kill_score_warning_risk_increase",
    ],
    ["HOLD", rules, proposal({ action: "HOLD" }), "SKIP", "action_hold"],
    ["UPDATE_SL without price", rules, proposal({ action: "UPDATE_SL" }), "ERROR", "missing_new_sl"],
    ["UPDATE_SL at 0", rules, proposal({ action: "UPDATE_SL", newSlProposed: 0 }), "ERROR", "missing_new_sl"],
    ["unknown action", rules, proposal({ action: "OPEN_LONG" }), "ERROR", "unknown_action"],
    ["close", rules, proposal(), "EXECUTE", "none"],
    ["UPDATE_SL", rules, proposal({ action: "UPDATE_SL", newSlProposed: 41000 }), "EXECUTE", "none"],
  ] as const)("%s", (_name, r, p, decision, reason) => {
    const out = decide(p, r, fresh);
    expect(out.decision).toBe(decision);
    expect(out.reason).toBe(reason);
  });

  it("an executed plan_id is SKIP duplicate_plan, after the kill-score gates", () => {
    expect(decide(proposal(), rules, { executed: true })).toMatchObject({
      decision: "SKIP",
      reason: "duplicate_plan",
    });
    expect(decide(proposal({ killScore: 0.9 }), rules, { executed: true }).reason).toBe(
      "kill_score_critical",
    );
  });

  it("closes in the warning band stay EXECUTE with kill_score_warning_close_ok", () => {
    for (const action of ["FULL_CLOSE_PROPOSED", "PARTIAL_75", "PARTIAL_50"]) {
      const out = decide(proposal({ action, killScore: 0.65 }), rules, fresh);
      expect(out).toEqual({
        decision: "EXECUTE",
        reason: "none",
        reasonCodes: ["kill_score_warning_close_ok"],
        context: {},
      });
    }
  });

  it("has the eight planning gates in order", () => {
    expect(GATES).toHaveLength(8);
  });
});

describe("buildPlan", () => {
  it("writes the decision, codes, steps and the snapshot estimate for closes", () => {
    const p = proposal({ action: "PARTIAL_75", killScore: 0.65 });
    const gate = decide(p, rules, fresh);
    const plan = buildPlan(p, "ba3cbf84bf17f3a2", gate, { closeQty: "0.0375", price: "60000" }, 1769928600);
    expect(plan).toMatchObject({
      decision: "EXECUTE",
      reasonCodes: ["kill_score_warning_close_ok"],
      closeQty: "0.0375",
      price: "60000",
      reduceOnly: true,
      steps: [{ step: "CLOSE_PARTIAL_75", type: "market_reduce_only", fraction: "0.75" }],
    });
  });

  it("leaves quantities out of non-EXECUTE plans and has no steps", () => {
    const p = proposal({ action: "HOLD" });
    const plan = buildPlan(p, "ba3cbf84bf17f3a2", decide(p, rules, fresh), { closeQty: "1", price: "2" }, 1);
    expect(plan).toMatchObject({
      decision: "SKIP",
      reasonCodes: ["action_hold"],
      closeQty: null,
      price: null,
      steps: [],
    });
  });

  it("UPDATE_SL steps carry the stop price as Python prints it", () => {
    const p = proposal({ action: "UPDATE_SL", newSlProposed: 41000 });
    expect(planSteps(p, decide(p, rules, fresh))).toEqual([
      { step: "UPDATE_SL", type: "stop_market_close_position", stop_price: "41000.0" },
    ]);
  });
});
