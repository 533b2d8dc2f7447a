import { keyPatterns, keys, streams } from "@quantum/contracts";
import { EXCHANGE_SCRIPTS, PaperExchange, seedPaperPosition } from "@quantum/exchange";
import { loadScripts } from "@quantum/runtime";
import { eventually, metricValue, scrapeMetrics, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allowP33,
  denyP33,
  grantGovernor,
  planIdOf,
  plansFor,
  proposal,
  type RunningService,
  resultsFor,
  startApply,
  streamProposal,
  waitPlan,
  waitResult,
  writeProposal,
} from "./helpers.js";

// Planning gates and permit failures against one Apply Layer process (paper); the test writes the permits.
let redis: TestRedis;
let r: Redis;
let apply: RunningService;

const ALLOW = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "BNBUSDT", "G1USDT", "G2USDT", "G3USDT", "G4USDT"];

beforeAll(async () => {
  redis = await startTestRedis();
  r = redis.client();
  await r.set(keys.killSwitch, "false");
  await seedPaperPosition(r, "BTCUSDT", "0.050", "60000.0");
  await seedPaperPosition(r, "ETHUSDT", "1.000", "3000.00");
  apply = await startApply(redis, {
    APPLY_ALLOWLIST: ALLOW.join(","),
    SYMBOLS: [...ALLOW, "DOGEUSDT"].join(","),
    APPLY_PERMIT_WAIT_MS: "1500",
    APPLY_RECOVERY_INTERVAL_SEC: "0.3",
  });
});

afterAll(async () => {
  await apply?.proc.stop();
  await redis?.stop();
});

describe("planning gates publish the plan and its result at once", () => {
  it.each([
    ["not_in_allowlist", "DOGEUSDT", {}, "SKIP"],
    ["kill_score_critical", "G1USDT", { killScore: 0.85, action: "FULL_CLOSE_PROPOSED" }, "BLOCKED"],
    ["kill_score_warning_risk_increase", "G2USDT", { killScore: 0.7, action: "HOLD" }, "BLOCKED"],
    ["action_hold", "G3USDT", { action: "HOLD" }, "SKIP"],
    ["missing_new_sl", "G4USDT", { action: "UPDATE_SL", newSlProposed: null }, "ERROR"],
    ["unknown_action", "G1USDT", { action: "OPEN_LONG_10X" }, "ERROR"],
  ] as const)("%s", async (reason, symbol, over, decision) => {
    const planId = await writeProposal(r, proposal(symbol, over));
    const plan = await waitPlan(r, planId);
    expect(plan).toMatchObject({ decision, reason_codes: reason, close_qty: "", steps: "[]" });
    const res = await waitResult(r, planId);
    expect(res).toMatchObject({ decision, reason, error: reason, executed: "False", would_execute: "False" });
    expect(await r.exists(keys.execRecord(planId))).toBe(0);
    expect(await resultsFor(r, planId)).toHaveLength(1);
  });

  it("a close in the warning band stays EXECUTE with kill_score_warning_close_ok", async () => {
    const planId = await streamProposal(r, proposal("G2USDT", { action: "PARTIAL_75", killScore: 0.65 }));
    const plan = await waitPlan(r, planId);
    expect(plan).toMatchObject({
      decision: "EXECUTE",
      reason_codes: "kill_score_warning_close_ok",
      reduceOnly: "true",
    });
    expect(JSON.parse(plan.steps as string)).toEqual([
      { step: "CLOSE_PARTIAL_75", type: "market_reduce_only", fraction: "0.75" },
    ]);
    expect(await waitResult(r, planId)).toMatchObject({ reason: "permit_timeout_or_missing:missing_both" });
  });

  it("an already executed plan_id is SKIP duplicate_plan once, without a second result", async () => {
    const p = proposal("G3USDT");
    const planId = planIdOf(p);
    await r.hset(keys.execRecord(planId), {
      state: "FILLED",
      plan_id: planId,
      symbol: "G3USDT",
      created_at: "1769900000.000",
      result_published: "1",
    });
    await writeProposal(r, p);
    expect(await waitPlan(r, planId)).toMatchObject({ decision: "SKIP", reason_codes: "duplicate_plan" });
    const before = metricValue(await scrapeMetrics(apply.port), "quantum_apply_dedupe_hits_total");
    await eventually(
      async () =>
        metricValue(await scrapeMetrics(apply.port), "quantum_apply_dedupe_hits_total") >= before + 3,
    );
    expect(await plansFor(r, planId)).toHaveLength(1);
    expect(await resultsFor(r, planId)).toHaveLength(0);
  });
});

describe("permit failures give their reason code", () => {
  it("names the missing permit after APPLY_PERMIT_WAIT_MS", async () => {
    const both = await streamProposal(r, proposal("G1USDT"));
    const gov = await streamProposal(r, proposal("G2USDT"));
    const p33 = await streamProposal(r, proposal("G3USDT"));
    await Promise.all([waitPlan(r, both), waitPlan(r, gov), waitPlan(r, p33)]);
    await allowP33(r, gov, "G2USDT", "1", "2");
    await grantGovernor(r, p33, "G3USDT");
    const [a, b, c] = await Promise.all([waitResult(r, both), waitResult(r, gov), waitResult(r, p33)]);
    expect(a).toMatchObject({ decision: "BLOCKED", reason: "permit_timeout_or_missing:missing_both" });
    expect(b).toMatchObject({ decision: "BLOCKED", reason: "permit_timeout_or_missing:missing_governor" });
    expect(c).toMatchObject({ decision: "BLOCKED", reason: "permit_timeout_or_missing:missing_p33" });
    for (const res of [a, b, c]) {
      expect(Number(res.permit_wait_ms)).toBeGreaterThanOrEqual(1400);
      expect(res.executed).toBe("False");
    }
    // A timed-out plan gets a DONE execution record: no later consume can ever execute it.
    expect(await r.hgetall(keys.execRecord(both))).toMatchObject({ state: "DONE", result_published: "1" });
  });

  it.each([
    ["p33_permit_denied", "deny"],
    ["invalid_safe_qty", "0"],
    ["qty_below_min", "0.0004"],
  ] as const)("%s", async (reason, p33) => {
    const planId = await streamProposal(r, proposal("BTCUSDT"));
    await waitPlan(r, planId);
    await grantGovernor(r, planId, "BTCUSDT");
    if (p33 === "deny") await denyP33(r, planId, "BTCUSDT", "reconcile_required_qty_mismatch");
    else await allowP33(r, planId, "BTCUSDT", p33, "0.050");
    const res = await waitResult(r, planId);
    expect(res).toMatchObject({ decision: "BLOCKED", reason, executed: "False" });
    if (p33 === "deny") {
      expect(res.detail).toBe("p33_reason=reconcile_required_qty_mismatch exchange_amt=0.05 ledger_amt=0.04");
    }
    expect(await r.hget(keys.execRecord(planId), "state")).toBe("DONE");
    expect(await r.exists(keys.paperOrder(`qp3-c-${planId}`))).toBe(0);
  });

  it("counts P3.3 denies by the P3.3 reason", async () => {
    const m = await scrapeMetrics(apply.port);
    expect(metricValue(m, "p33_permit_deny_total", { reason: "reconcile_required_qty_mismatch" })).toBe(1);
  });

  it.each([
    ["kill_switch_active", keys.killSwitch, "true"],
    ["trading_state_halted", keys.tradingState, "HALTED"],
  ] as const)(
    "%s at consume time: both permits there, nothing consumed, nothing sent",
    async (reason, key, value) => {
      const planId = await streamProposal(r, proposal("ETHUSDT"));
      await waitPlan(r, planId);
      await r.set(key, value);
      try {
        await grantGovernor(r, planId, "ETHUSDT");
        await allowP33(r, planId, "ETHUSDT", "0.500", "1.000");
        expect(await waitResult(r, planId)).toMatchObject({ decision: "BLOCKED", reason, executed: "False" });
      } finally {
        await r.set(keys.killSwitch, "false");
        await r.del(keys.tradingState);
      }
      expect(await r.exists(keys.governorPermit(planId), keys.p33Permit(planId))).toBe(2);
      expect(await r.hget(keys.paperPosition("ETHUSDT"), "position_amt")).toBe("1.000");
      expect(
        metricValue(await scrapeMetrics(apply.port), "apply_executed_total", { status: "kill_switch" }),
      ).toBeGreaterThan(0);
    },
  );
});

describe("malformed input is dead-lettered, never a crash", () => {
  it("a malformed proposal hash is dead-lettered once, not every poll", async () => {
    const before = await r.xlen(streams.deadLetter);
    await r.hset(keys.harvestProposal("BNBUSDT"), {
      harvest_action: "PARTIAL_50",
      kill_score: "very high",
      computed_at_utc: "x",
    });
    await eventually(async () => (await r.xlen(streams.deadLetter)) === before + 1);
    const polls = metricValue(await scrapeMetrics(apply.port), "quantum_apply_dedupe_hits_total");
    await eventually(
      async () => metricValue(await scrapeMetrics(apply.port), "quantum_apply_dedupe_hits_total") > polls + 3,
    );
    expect(await r.xlen(streams.deadLetter)).toBe(before + 1);
    const [[, flat]] = (await r.xrevrange(streams.deadLetter, "+", "-", "COUNT", 1)) as [[string, string[]]];
    const entry: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) entry[flat[i] as string] = flat[i + 1] as string;
    expect(entry).toMatchObject({ stream: keys.harvestProposal("BNBUSDT"), service: "apply-layer" });
    expect(entry.error).toMatch(/^kill_score: /);
    const m = await scrapeMetrics(apply.port);
    expect(metricValue(m, "quantum_deadletter_total", { stream: keyPatterns.harvestProposal })).toBe(1);
    await r.del(keys.harvestProposal("BNBUSDT"));
  });

  it("a malformed stream entry is dead-lettered and acknowledged; the next one is planned", async () => {
    const before = await r.xlen(streams.deadLetter);
    await r.xadd(
      streams.harvestProposal,
      "*",
      "symbol",
      "G4USDT",
      "harvest_action",
      "HOLD",
      "kill_score",
      "[]",
    );
    const good = await streamProposal(r, proposal("G4USDT", { action: "HOLD" }));
    expect(await waitResult(r, good)).toMatchObject({ decision: "SKIP", reason: "action_hold" });
    await eventually(async () => (await r.xlen(streams.deadLetter)) === before + 1);
    // The batch is acknowledged after its results are out: wait for the XACK, not just the result.
    await eventually(async () => {
      const pending = (await r.xpending(streams.harvestProposal, "apply")) as [number, ...unknown[]];
      return pending[0] === 0;
    });
  });

  it("position_mismatch_seconds follows the operator view of the polled symbols", async () => {
    await r.hset(keys.positionView("ETHUSDT"), {
      exchange_amt: "1.000",
      ledger_amount: "0.9",
      mismatch_since: String(Date.now() / 1000 - 30),
      snapshot_ts: String(Date.now() / 1000),
    });
    await eventually(
      async () => metricValue(await scrapeMetrics(apply.port), "position_mismatch_seconds") >= 30,
    );
    await r.hset(keys.positionView("ETHUSDT"), "mismatch_since", "");
    await eventually(
      async () => metricValue(await scrapeMetrics(apply.port), "position_mismatch_seconds") === 0,
    );
  });

  it("apply_trading_state follows quantum:global:trading_state (missing = ACTIVE, unknown = HALTED)", async () => {
    const stateIs = async (state: string) => {
      const m = await scrapeMetrics(apply.port);
      return ["ACTIVE", "REDUCE_ONLY", "HALTED"].every(
        (s) => metricValue(m, "apply_trading_state", { state: s }) === (s === state ? 1 : 0),
      );
    };
    try {
      await r.set(keys.tradingState, "reduce_only");
      await eventually(() => stateIs("REDUCE_ONLY"));
      await r.set(keys.tradingState, "PAUSED");
      await eventually(() => stateIs("HALTED"));
      await r.del(keys.tradingState);
      await eventually(() => stateIs("ACTIVE"));
    } finally {
      await r.del(keys.tradingState);
    }
  });
});

describe("records left by a dead instance are finished by the periodic sweep", () => {
  it("CLAIMED (nothing sent) → ERROR internal_error; UNKNOWN with a fill at the venue → EXECUTE", async () => {
    const claimed = planIdOf(proposal("XRPUSDT"));
    // As the claim script leaves them: the record and its entry in the open-execution index.
    await r.hset(keys.execRecord(claimed), {
      state: "CLAIMED",
      plan_id: claimed,
      symbol: "XRPUSDT",
      created_at: "1769900000.000",
    });
    await r.zadd(keys.execOpen, 1769900000000, claimed);
    expect(await waitResult(r, claimed)).toMatchObject({
      decision: "ERROR",
      reason: "internal_error",
      detail: "interrupted=before_submit",
    });

    // An order that reached the (paper) venue before its instance died: the sweep finds it by client id.
    const unknown = planIdOf(proposal("ETHUSDT"));
    const cid = `qp3-c-${unknown}`;
    loadScripts(r, [EXCHANGE_SCRIPTS]);
    const venue = new PaperExchange({ redis: r });
    const placed = await venue.placeOrder({
      symbol: "ETHUSDT",
      side: "SELL",
      type: "MARKET",
      quantity: "0.100",
      reduceOnly: true,
      clientOrderId: cid,
    });
    expect(placed.kind).toBe("filled");
    await r.hset(keys.execRecord(unknown), {
      state: "UNKNOWN",
      plan_id: unknown,
      symbol: "ETHUSDT",
      created_at: "1769900000.000",
      client_order_id: cid,
      side: "SELL",
      qty: "0.100",
    });
    await r.zadd(keys.execOpen, 1769900000000, unknown);
    expect(await waitResult(r, unknown)).toMatchObject({
      decision: "EXECUTE",
      executed: "True",
      executed_qty: "0.100",
      client_order_id: cid,
    });
    expect(await r.hget(keys.execRecord(unknown), "state")).toBe("FILLED");
  });

  it("leaves a record alone while another instance holds its symbol lock", async () => {
    await r.set(keys.symbolLock("SOLUSDT"), "other-instance:boot:1", "PX", 60_000);
    const planId = planIdOf(proposal("SOLUSDT"));
    await r.hset(keys.execRecord(planId), {
      state: "CLAIMED",
      plan_id: planId,
      symbol: "SOLUSDT",
      created_at: "1769900000.000",
    });
    await r.zadd(keys.execOpen, 1769900000000, planId);
    const sweeps = metricValue(await scrapeMetrics(apply.port), "quantum_apply_dedupe_hits_total");
    await eventually(
      async () =>
        metricValue(await scrapeMetrics(apply.port), "quantum_apply_dedupe_hits_total") > sweeps + 10,
    );
    expect(await resultsFor(r, planId)).toHaveLength(0);
    await r.del(keys.symbolLock("SOLUSDT"));
    expect(await waitResult(r, planId)).toMatchObject({ reason: "internal_error" });
  });
});

describe("static kill switch APPLY_KILL_SWITCH=true", () => {
  it("blocks every plan at planning time", async () => {
    const other = await startApply(redis, { REDIS_URL: redis.url(1), APPLY_KILL_SWITCH: "true" });
    try {
      const r1 = redis.client(1);
      const planId = await writeProposal(r1, proposal("BTCUSDT"));
      expect(await waitPlan(r1, planId)).toMatchObject({
        decision: "BLOCKED",
        reason_codes: "kill_switch_active",
      });
      expect(await waitResult(r1, planId)).toMatchObject({
        decision: "BLOCKED",
        reason: "kill_switch_active",
      });
      expect(metricValue(await scrapeMetrics(other.port), "apply_kill_switch_active")).toBe(1);
    } finally {
      await other.proc.stop();
    }
  });
});
