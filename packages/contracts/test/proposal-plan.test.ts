import { describe, expect, it } from "vitest";
import {
  type ApplyPlan,
  computePlanId,
  decodeApplyPlan,
  decodeHarvestProposal,
  EncodeError,
  encodeApplyPlan,
  encodeHarvestProposal,
} from "../src/index.js";
import { HUGE_DIGITS, HUGE_TEXT } from "./arbitraries.js";

const hash = {
  harvest_action: "FULL_CLOSE_PROPOSED",
  kill_score: "0.31",
  k_regime_flip: "0.1",
  k_sigma_spike: "0.05",
  k_ts_drop: "1e-05",
  k_age_penalty: "0.0",
  new_sl_proposed: "0.0",
  R_net: "1.25",
  last_update_epoch: "1769928600.5",
  computed_at_utc: "2026-02-01T06:50:00Z",
  reason_codes: "regime_flip, sigma_spike,",
};

function expectField(r: { ok: boolean; error?: { field: string } }, field: string) {
  expect(r.ok).toBe(false);
  expect(r.error?.field).toBe(field);
}

describe("decodeHarvestProposal", () => {
  it("reads the hash path with the symbol from the key", () => {
    const r = decodeHarvestProposal(hash, "BTCUSDT");
    expect(r).toEqual({
      ok: true,
      value: {
        symbol: "BTCUSDT",
        action: "FULL_CLOSE_PROPOSED",
        calibrated: false,
        killScore: 0.31,
        kRegimeFlip: 0.1,
        kSigmaSpike: 0.05,
        kTsDrop: 1e-5,
        kAgePenalty: 0,
        newSlProposed: 0,
        rNet: 1.25,
        lastUpdateEpoch: 1769928600.5,
        computedAtUtc: "2026-02-01T06:50:00Z",
        reasonCodes: ["regime_flip", "sigma_spike"],
      },
    });
    if (r.ok) expect(computePlanId(r.value)).toBe("ba3cbf84bf17f3a2");
  });

  it("lets the key's symbol win over a symbol field; the stream path uses the field", () => {
    const r = decodeHarvestProposal({ ...hash, symbol: "ETHUSDT" }, "BTCUSDT");
    expect(r.ok && r.value.symbol).toBe("BTCUSDT");
    const s = decodeHarvestProposal({ ...hash, symbol: "ETHUSDT" });
    expect(s.ok && s.value.symbol).toBe("ETHUSDT");
    expectField(decodeHarvestProposal(hash), "symbol");
    expectField(decodeHarvestProposal({ ...hash, symbol: "btc:usdt" }), "symbol");
  });

  it("takes `action` when calibrated=1, else harvest_action, and falls back to the other", () => {
    const cal = decodeHarvestProposal({ ...hash, calibrated: "1", action: "PARTIAL_50" }, "BTCUSDT");
    expect(cal.ok && [cal.value.action, cal.value.calibrated]).toEqual(["PARTIAL_50", true]);
    const uncal = decodeHarvestProposal({ ...hash, calibrated: "0", action: "PARTIAL_50" }, "BTCUSDT");
    expect(uncal.ok && uncal.value.action).toBe("FULL_CLOSE_PROPOSED");
    const onlyHarvest = decodeHarvestProposal({ ...hash, calibrated: "1" }, "BTCUSDT");
    expect(onlyHarvest.ok && onlyHarvest.value.action).toBe("FULL_CLOSE_PROPOSED");
    const { harvest_action: _h, ...noHarvest } = hash;
    expectField(decodeHarvestProposal(noHarvest, "BTCUSDT"), "harvest_action");
    expectField(
      decodeHarvestProposal({ ...noHarvest, calibrated: "1", action: HUGE_TEXT }, "BTCUSDT"),
      "action",
    );
  });

  it("decodes unknown actions (the Apply Layer turns them into unknown_action)", () => {
    const r = decodeHarvestProposal({ ...hash, harvest_action: "MOON_LONG" }, "BTCUSDT");
    expect(r.ok && r.value.action).toBe("MOON_LONG");
  });

  it("reads new_sl_proposed absent, empty or None as null", () => {
    for (const v of [undefined, "", "None"]) {
      const { new_sl_proposed: _n, ...rest } = hash;
      const input = v === undefined ? rest : { ...rest, new_sl_proposed: v };
      const r = decodeHarvestProposal(input, "ETHUSDT");
      expect(r.ok && r.value.newSlProposed).toBeNull();
    }
  });

  it("reads absent k_* and R_net as 0 and absent last_update_epoch as null", () => {
    const r = decodeHarvestProposal(
      { harvest_action: "HOLD", kill_score: "0.5", computed_at_utc: "2026-02-01T06:50:00Z" },
      "BTCUSDT",
    );
    expect(r.ok && [r.value.kRegimeFlip, r.value.rNet, r.value.lastUpdateEpoch, r.value.reasonCodes]).toEqual(
      [0, 0, null, []],
    );
  });

  it.each([
    ["kill_score", "NaN"],
    ["kill_score", "inf"],
    ["kill_score", "1e309"],
    ["kill_score", ""],
    ["kill_score", "0x10"],
    ["kill_score", " 0.3"],
    ["kill_score", HUGE_DIGITS],
    ["k_sigma_spike", "high"],
    ["new_sl_proposed", "nan"],
    ["R_net", "1,5"],
    ["last_update_epoch", "-1"],
    ["computed_at_utc", ""],
    ["computed_at_utc", HUGE_TEXT],
    ["reason_codes", HUGE_TEXT],
  ])("rejects %s=%j naming the field", (field, value) => {
    expectField(decodeHarvestProposal({ ...hash, [field]: value }, "BTCUSDT"), field);
  });

  it("rejects a missing kill_score and non-string values", () => {
    const { kill_score: _k, ...rest } = hash;
    expectField(decodeHarvestProposal(rest, "BTCUSDT"), "kill_score");
    expectField(decodeHarvestProposal({ ...hash, kill_score: 0.3 }, "BTCUSDT"), "kill_score");
    expectField(decodeHarvestProposal(null), "$");
    expectField(decodeHarvestProposal(["harvest_action", "HOLD"]), "$");
  });

  it("encodes calibrated proposals with action and calibrated=1", () => {
    const r = decodeHarvestProposal({ ...hash, calibrated: "1", action: "PARTIAL_75" }, "BTCUSDT");
    if (!r.ok) throw r.error;
    const wire = encodeHarvestProposal(r.value);
    expect(wire).toMatchObject({ calibrated: "1", action: "PARTIAL_75", harvest_action: "PARTIAL_75" });
    expect(wire.new_sl_proposed).toBe("0");
    expect(wire.k_ts_drop).toBe("0.00001");
  });
});

const plan: ApplyPlan = {
  planId: "ba3cbf84bf17f3a2",
  symbol: "BTCUSDT",
  action: "FULL_CLOSE_PROPOSED",
  killScore: 0.31,
  kRegimeFlip: 0.1,
  kSigmaSpike: 0,
  kTsDrop: 0,
  kAgePenalty: 0,
  newSlProposed: null,
  rNet: 1.25,
  decision: "EXECUTE",
  reasonCodes: ["kill_score_warning_close_ok"],
  steps: [{ step: "CLOSE_POSITION", type: "market_reduce_only", pct: 100 }],
  closeQty: "0.010",
  price: null,
  timestamp: 1769928600.25,
  reduceOnly: true,
};

describe("ApplyPlan", () => {
  it("writes the contract's field names with source, v and reduceOnly", () => {
    expect(encodeApplyPlan(plan)).toEqual({
      plan_id: "ba3cbf84bf17f3a2",
      symbol: "BTCUSDT",
      action: "FULL_CLOSE_PROPOSED",
      kill_score: "0.31",
      k_regime_flip: "0.1",
      k_sigma_spike: "0",
      k_ts_drop: "0",
      k_age_penalty: "0",
      new_sl_proposed: "",
      R_net: "1.25",
      decision: "EXECUTE",
      reason_codes: "kill_score_warning_close_ok",
      steps: '[{"step":"CLOSE_POSITION","type":"market_reduce_only","pct":100}]',
      close_qty: "0.010",
      price: "",
      timestamp: "1769928600.25",
      reduceOnly: "true",
      source: "apply_layer",
      v: "1",
    });
  });

  it("leaves reduceOnly out when false and reads it back as false", () => {
    const wire = encodeApplyPlan({ ...plan, reduceOnly: false, decision: "SKIP" });
    expect(wire).not.toHaveProperty("reduceOnly");
    const back = decodeApplyPlan(wire);
    expect(back.ok && back.value.reduceOnly).toBe(false);
  });

  it("accepts a plan without source/v but rejects other values", () => {
    const { source: _s, v: _v, ...unstamped } = encodeApplyPlan(plan);
    expect(decodeApplyPlan(unstamped).ok).toBe(true);
    expectField(decodeApplyPlan({ ...unstamped, v: "2" }), "v");
    expectField(decodeApplyPlan({ ...unstamped, source: "someone_else" }), "source");
  });

  it.each([
    ["plan_id", "BA3CBF84BF17F3A2"],
    ["decision", "EXECUTED"],
    ["decision", ""],
    ["kill_score", "NaN"],
    ["close_qty", "1e-3"],
    ["close_qty", "abc"],
    ["steps", "{not json"],
    ["steps", '{"a":1}'],
    ["reason_codes", "Free Text,x"],
    ["timestamp", ""],
    ["reduceOnly", "yes"],
  ])("rejects %s=%j naming the field", (field, value) => {
    expectField(decodeApplyPlan({ ...encodeApplyPlan(plan), [field]: value }), field);
  });

  it("refuses to encode what it could not decode", () => {
    expect(() => encodeApplyPlan({ ...plan, closeQty: "1e-3" })).toThrow(EncodeError);
    expect(() => encodeApplyPlan({ ...plan, killScore: Number.NaN })).toThrow(/kill_score/);
    expect(() => encodeApplyPlan({ ...plan, reasonCodes: ["a,b"] })).toThrow(/reason_codes/);
    expect(() => encodeApplyPlan({ ...plan, symbol: "btc usdt" })).toThrow(/symbol/);
  });
});
