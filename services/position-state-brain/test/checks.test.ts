import type { PositionSnapshot } from "@quantum/contracts";
import { Decimal } from "decimal.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkAllowlist,
  checkCooldown,
  checkHasPosition,
  checkPlanAction,
  checkQtyMatches,
  checkReconcileHold,
  checkSideMatches,
  checkSnapshotFresh,
  checkSnapshotPresent,
  computeSafeQty,
  evaluatePlan,
  type PlanEvaluationInput,
  qtyTolerance,
  selectPosition,
} from "../src/checks.js";

const NOW_MS = 1_800_000_000_000;

function snap(amt: string, tsEpoch = NOW_MS / 1000): PositionSnapshot {
  return {
    positionAmt: amt,
    side: amt.startsWith("-") ? "SHORT" : Number(amt) === 0 ? "NONE" : "LONG",
    entryPrice: "50000",
    markPrice: "50000",
    unrealizedPnl: "0",
    leverage: "5",
    tsEpoch,
    source: "paper",
  };
}

function input(over: Partial<PlanEvaluationInput> = {}): PlanEvaluationInput {
  return {
    symbol: "BTCUSDT",
    action: "FULL_CLOSE_PROPOSED",
    allowlist: new Set(["BTCUSDT"]),
    snapshot: snap("0.123"),
    stepSize: "0.001",
    ledgerAmtRaw: "0.123",
    cooldownRaw: null,
    holdRaw: null,
    nowMs: NOW_MS,
    staleThresholdSec: 10,
    cooldownSec: 15,
    tolerancePct: 1,
    ...over,
  };
}

describe("checks", () => {
  it("each check allows or denies with its reason and context", () => {
    expect(checkPlanAction("HOLD")).toMatchObject({ allow: false, reason: "invalid_plan" });
    expect(checkPlanAction("UPDATE_SL")).toEqual({ allow: true });
    expect(checkAllowlist("ETHUSDT", new Set(["BTCUSDT"]))).toMatchObject({ reason: "not_in_allowlist" });
    expect(checkSnapshotPresent(null, "0.001")).toMatchObject({ reason: "no_exchange_snapshot" });
    expect(checkSnapshotPresent(snap("1"), null)).toMatchObject({
      reason: "no_exchange_snapshot",
      context: { missing: "symbol_rules" },
    });
    expect(checkSnapshotFresh(snap("1", 100), 112.5, 10)).toEqual({
      allow: false,
      reason: "stale_exchange_state",
      context: { age_seconds: 12.5 },
    });
    expect(checkSnapshotFresh(snap("1", 100), 110, 10)).toEqual({ allow: true });
    expect(checkHasPosition({ positionSide: "BOTH", amt: new Decimal("0") })).toEqual({
      allow: false,
      reason: "no_position",
      context: { exchange_amt: "0" },
    });
    expect(checkHasPosition({ positionSide: "SHORT", amt: new Decimal("0") })).toEqual({
      allow: false,
      reason: "no_position",
      context: { exchange_amt: "0", position_side: "SHORT" },
    });
    expect(checkSideMatches(new Decimal("0.1"), new Decimal("0"))).toMatchObject({
      reason: "reconcile_required_side_mismatch",
    });
    expect(checkSideMatches(new Decimal("-0.1"), new Decimal("-0.2"))).toEqual({ allow: true });
    expect(checkQtyMatches(new Decimal("10"), new Decimal("9.85"), "0.001", 1)).toEqual({
      allow: false,
      reason: "reconcile_required_qty_mismatch",
      context: { exchange_amt: "10", ledger_amt: "9.85", diff: "0.15", tolerance: "0.1" },
    });
    expect(checkQtyMatches(new Decimal("10"), new Decimal("9.9"), "0.001", 1)).toEqual({ allow: true });
    expect(checkCooldown(String(NOW_MS - 5000), NOW_MS, 15)).toEqual({
      allow: false,
      reason: "cooldown_in_flight",
      context: { seconds_since_exec: 5, cooldown_sec: 15 },
    });
    expect(checkCooldown(String(NOW_MS / 1000 - 5), NOW_MS, 15)).toMatchObject({
      reason: "cooldown_in_flight",
    });
    expect(checkCooldown(String(NOW_MS - 15_000), NOW_MS, 15)).toEqual({ allow: true });
    expect(checkCooldown("garbage", NOW_MS, 15)).toMatchObject({ reason: "cooldown_in_flight" });
    expect(checkCooldown(null, NOW_MS, 15)).toEqual({ allow: true });
    expect(checkReconcileHold("yes")).toMatchObject({ reason: "reconcile_hold_active" });
    expect(checkReconcileHold("")).toEqual({ allow: true });
  });

  it("tolerance is max(step, |exchange| x pct / 100)", () => {
    expect(qtyTolerance(new Decimal("0.05"), "0.001", 1).toFixed()).toBe("0.001");
    expect(qtyTolerance(new Decimal("-2"), "0.001", 1).toFixed()).toBe("0.02");
  });

  it("safe_qty for FULL / 75 / 50 / UPDATE_SL floored to the step", () => {
    const amt = new Decimal("0.123");
    expect(computeSafeQty(amt, "FULL_CLOSE_PROPOSED", "0.001").safeQty).toBe("0.123");
    expect(computeSafeQty(amt, "PARTIAL_75", "0.001").safeQty).toBe("0.092");
    expect(computeSafeQty(amt, "PARTIAL_50", "0.001").safeQty).toBe("0.061");
    expect(computeSafeQty(amt, "UPDATE_SL", "0.001").safeQty).toBe("0.123");
    expect(computeSafeQty(new Decimal("-7"), "PARTIAL_50", "1").safeQty).toBe("3");
  });

  it("property: safe_qty is on the step, never above |exchange|, and within one step of the request", () => {
    const steps = ["1", "0.1", "0.01", "0.001", "0.0001"];
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
        fc.integer({ min: 0, max: 8 }),
        fc.constantFrom(...steps),
        fc.constantFrom("FULL_CLOSE_PROPOSED", "PARTIAL_75", "PARTIAL_50", "UPDATE_SL"),
        (units, scale, step, action) => {
          const amt = new Decimal(units.toString()).div(new Decimal(10).pow(scale));
          const { requested, safeQty } = computeSafeQty(amt, action, step);
          const safe = new Decimal(safeQty);
          expect(safe.mod(step).isZero()).toBe(true);
          expect(safe.lte(amt.abs())).toBe(true);
          expect(safe.lte(requested)).toBe(true);
          expect(requested.minus(safe).lt(step)).toBe(true);
          expect(safeQty.split(".")[1]?.length ?? 0).toBe(new Decimal(step).decimalPlaces());
        },
      ),
    );
  });

  it("evaluatePlan runs the checks in order and allows with the safe quantity", () => {
    expect(evaluatePlan(input())).toEqual({
      allow: true,
      safeQty: "0.123",
      exchangeAmt: "0.123",
      ledgerAmt: "0.123",
      positionSide: "BOTH",
    });
    // every failing condition at once: the first in order wins, removing it exposes the next
    const all: Partial<PlanEvaluationInput> = {
      snapshot: snap("0.123", NOW_MS / 1000 - 60),
      ledgerAmtRaw: "-0.5",
      cooldownRaw: String(NOW_MS),
      holdRaw: "1",
    };
    expect(evaluatePlan(input({ ...all, action: "HOLD" }))).toMatchObject({ reason: "invalid_plan" });
    expect(evaluatePlan(input({ ...all, symbol: "ETHUSDT" }))).toMatchObject({ reason: "not_in_allowlist" });
    expect(evaluatePlan(input({ ...all, snapshot: null }))).toMatchObject({ reason: "no_exchange_snapshot" });
    expect(evaluatePlan(input(all))).toMatchObject({ reason: "stale_exchange_state" });
    const fresh = { ...all, snapshot: snap("0.123") };
    expect(evaluatePlan(input({ ...fresh, snapshot: snap("0") }))).toMatchObject({ reason: "no_position" });
    expect(evaluatePlan(input(fresh))).toMatchObject({ reason: "reconcile_required_side_mismatch" });
    expect(evaluatePlan(input({ ...fresh, ledgerAmtRaw: "0.1" }))).toMatchObject({
      reason: "reconcile_required_qty_mismatch",
    });
    expect(evaluatePlan(input({ ...fresh, ledgerAmtRaw: "0.123" }))).toMatchObject({
      reason: "cooldown_in_flight",
    });
    expect(evaluatePlan(input({ ...fresh, ledgerAmtRaw: "0.123", cooldownRaw: null }))).toMatchObject({
      reason: "reconcile_hold_active",
    });
    expect(evaluatePlan(input({ ledgerAmtRaw: "junk" }))).toMatchObject({
      reason: "reconcile_required_qty_mismatch",
      context: { ledger_amt: "junk", diff: null },
    });
  });

  it("hedge mode: the named leg is sized, both legs open without a name is ambiguous, the ledger is the net", () => {
    const hedge = (long: string, short: string, net: string): PositionSnapshot => ({
      ...snap(net),
      longAmt: long,
      shortAmt: short,
    });
    const both = { snapshot: hedge("2", "-1", "1"), ledgerAmtRaw: "1", stepSize: "0.001" };
    expect(selectPosition(hedge("2", "-1", "1"), undefined)).toMatchObject({
      allow: false,
      reason: "ambiguous_hedge_position",
    });
    expect(evaluatePlan(input(both))).toEqual({
      allow: false,
      reason: "ambiguous_hedge_position",
      context: { long_amt: "2", short_amt: "-1" },
    });
    expect(evaluatePlan(input({ ...both, positionSide: "LONG" }))).toEqual({
      allow: true,
      safeQty: "2.000",
      exchangeAmt: "2",
      ledgerAmt: "1",
      positionSide: "LONG",
    });
    expect(evaluatePlan(input({ ...both, positionSide: "SHORT", action: "PARTIAL_50" }))).toMatchObject({
      safeQty: "0.500",
      exchangeAmt: "-1",
      positionSide: "SHORT",
    });
    // a ledger that drifted from the net is still a qty mismatch, whichever leg is named
    expect(evaluatePlan(input({ ...both, positionSide: "LONG", ledgerAmtRaw: "2" }))).toMatchObject({
      reason: "reconcile_required_qty_mismatch",
    });
    const equal = { snapshot: hedge("1.5", "-1.5", "0"), ledgerAmtRaw: "0" };
    expect(evaluatePlan(input({ ...equal, positionSide: "LONG" }))).toMatchObject({
      allow: true,
      safeQty: "1.500",
      positionSide: "LONG",
    });
    const onlyShort = { snapshot: hedge("0", "-3", "-3"), ledgerAmtRaw: "-3" };
    expect(evaluatePlan(input(onlyShort))).toMatchObject({
      allow: true,
      positionSide: "SHORT",
      safeQty: "3.000",
    });
    expect(evaluatePlan(input({ ...onlyShort, positionSide: "LONG" }))).toMatchObject({
      reason: "no_position",
      context: { position_side: "LONG" },
    });
    // one-way mode ignores a named leg: the net is sized as BOTH
    expect(evaluatePlan(input({ positionSide: "SHORT" }))).toMatchObject({
      allow: true,
      positionSide: "BOTH",
    });
  });
});
