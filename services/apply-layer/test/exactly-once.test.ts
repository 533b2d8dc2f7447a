import { keys } from "@quantum/contracts";
import { EXCHANGE_SCRIPTS, type Exchange, PaperExchange, seedPaperPosition } from "@quantum/exchange";
import { BinanceUsdmExchange } from "@quantum/exchange/binance";
import { loadScripts } from "@quantum/runtime";
import { eventually, metricValue, scrapeMetrics, startFakeBinance } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allowP33,
  grantGovernor,
  paperFills,
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
import { useTestnetRig } from "./rig.js";

// testnet mode against FakeBinance: orders are counted at the venue by client order id.
const API = { apiKey: "once-key", apiSecret: "once-secret" };
const rig = useTestnetRig({
  api: API,
  venue: {
    positions: [
      { symbol: "BTCUSDT", positionAmt: "1.000", markPrice: "60000" },
      { symbol: "ETHUSDT", positionAmt: "-10.000", markPrice: "3000" },
    ],
  },
  dbs: [0, 1, 2, 3, 4],
  env: { APPLY_PERMIT_WAIT_MS: "5000" },
});

/**
 * A BTC close of 0.010 whose order went out before Redis lost the plan's claim (it is at `venue`, filled):
 * the plan's result names that order. Returns the client order id.
 */
async function closeWithOrderAlreadyPlaced(r: Redis, venue: Exchange, exchangeAmt: string): Promise<string> {
  const p = proposal("BTCUSDT");
  const planId = planIdOf(p);
  const clientOrderId = `qp3-c-${planId}`;
  const pre = await venue.placeOrder({
    symbol: "BTCUSDT",
    side: "SELL",
    type: "MARKET",
    quantity: "0.010",
    reduceOnly: true,
    clientOrderId,
  });
  expect(pre.kind).toBe("filled");
  await streamProposal(r, p);
  await waitPlan(r, planId);
  await grantGovernor(r, planId, "BTCUSDT");
  await allowP33(r, planId, "BTCUSDT", "0.010", exchangeAmt);
  const res = await waitResult(r, planId);
  expect(res).toMatchObject({ decision: "EXECUTE", executed: "True", client_order_id: clientOrderId });
  expect(res.order_id).toBe(pre.kind === "filled" ? pre.orderId : "");
  return clientOrderId;
}

/** Submit one BTC close with both permits. */
async function submitClose(r: Redis, symbol = "BTCUSDT", exchangeAmt = "1.000"): Promise<string> {
  const planId = await streamProposal(r, proposal(symbol));
  await waitPlan(r, planId);
  await grantGovernor(r, planId, symbol);
  await allowP33(r, planId, symbol, "0.010", exchangeAmt);
  return planId;
}

describe("SIGKILL at each step, restart: at most one order and exactly one result per plan", () => {
  it.each([
    [
      "after_claim",
      "CLAIMED",
      0,
      { decision: "ERROR", reason: "internal_error", detail: "interrupted=before_submit" },
    ],
    [
      "after_submitting",
      "SUBMITTING",
      0,
      { decision: "ERROR", reason: "exchange_unknown_resolved_not_filled" },
    ],
    ["after_fill", "SUBMITTING", 1, { decision: "EXECUTE", executed: "True", executed_qty: "0.010" }],
    ["before_result", "FILLED", 1, { decision: "EXECUTE", executed: "True", executed_qty: "0.010" }],
  ] as const)("%s", async (point, stateAtCrash, orders, expected) => {
    const r = rig.redis.client(0);
    const consumer = `crash-${point}`;
    const first = await startApply(rig.redis, { ...rig.env(0), APPLY_TEST_CRASH_AT: point }, { consumer });
    const planId = await submitClose(r);
    expect(await first.proc.exited).toBe("SIGKILL");
    expect(await r.hget(keys.execRecord(planId), "state")).toBe(stateAtCrash);
    expect(await resultsFor(r, planId)).toHaveLength(0);

    const second = await startApply(rig.redis, rig.env(0), { consumer });
    try {
      const res = await waitResult(r, planId);
      expect(res).toMatchObject(expected);
      const venue = rig.fake.ordersFor(`qp3-c-${planId}`);
      expect(venue).toHaveLength(orders);
      if (orders === 1) expect(res.order_id).toBe(String(venue[0]?.orderId));
      // Nothing more happens for this plan: one result, and the record is final with its result out.
      expect(await resultsFor(r, planId)).toHaveLength(1);
      expect(await plansFor(r, planId)).toHaveLength(1);
      expect(await r.hget(keys.execRecord(planId), "result_published")).toBe("1");
      expect(await r.hlen(keys.applyOpenPlans)).toBe(0);
    } finally {
      await second.proc.stop();
    }
  });

  it("killed after publishing, before the claim: the restarted instance resumes the plan", async () => {
    const r = rig.redis.client(0);
    const consumer = "crash-before-claim";
    const first = await startApply(rig.redis, { ...rig.env(0), APPLY_PERMIT_WAIT_MS: "60000" }, { consumer });
    const planId = await streamProposal(r, proposal("BTCUSDT"));
    await waitPlan(r, planId);
    await first.proc.kill();
    expect(await r.hexists(keys.applyOpenPlans, planId)).toBe(1);
    await grantGovernor(r, planId, "BTCUSDT");
    await allowP33(r, planId, "BTCUSDT", "0.010", "1.000");
    const second = await startApply(rig.redis, rig.env(0), { consumer });
    try {
      expect(await waitResult(r, planId)).toMatchObject({ decision: "EXECUTE", executed: "True" });
      expect(rig.fake.ordersFor(`qp3-c-${planId}`)).toHaveLength(1);
    } finally {
      await second.proc.stop();
    }
  });
});

describe("lost and refused exchange answers", () => {
  let live: RunningService;
  let r: Redis;

  beforeAll(async () => {
    r = rig.redis.client(1);
    // A short rate-limit wait bound: a Retry-After of 1 s is past it (the wait itself: order-safety.test.ts).
    live = await startApply(rig.redis, { ...rig.env(1), APPLY_RATE_LIMIT_MAX_WAIT_MS: "500" });
  });
  afterAll(async () => {
    await live?.proc.stop();
  });

  it("a dropped response after the fill: no second order, result resolved by client order id", async () => {
    rig.fake.injectFault({ method: "POST", path: "/fapi/v1/order", kind: "dropAfterFill" });
    const planId = await submitClose(r);
    const res = await waitResult(r, planId);
    expect(res).toMatchObject({ decision: "EXECUTE", executed: "True", executed_qty: "0.010" });
    expect(res.detail).toMatch(/^filled_qty=0\.010 avg_price=\d/);
    const venue = rig.fake.ordersFor(`qp3-c-${planId}`);
    expect(venue).toHaveLength(1);
    expect(res.order_id).toBe(String(venue[0]?.orderId));
    const posts = rig.fake
      .requests()
      .filter((q) => q.method === "POST" && q.params.newClientOrderId === `qp3-c-${planId}`);
    expect(posts).toHaveLength(1);
  });

  it("an order already at the venue for the plan (claim lost in a failover) is adopted, never sent again", async () => {
    const venue = new BinanceUsdmExchange({
      venue: "testnet",
      ...API,
      baseUrl: rig.fake.baseUrl,
      allowLoopback: true,
    });
    const clientOrderId = await closeWithOrderAlreadyPlaced(r, venue, "1.000");
    const posts = rig.fake
      .requests()
      .filter((q) => q.method === "POST" && q.params.newClientOrderId === clientOrderId);
    expect(posts).toHaveLength(1);
  });

  it("a failed lookup before the send sends nothing", async () => {
    rig.fake.injectFault({ method: "GET", path: "/fapi/v1/order", kind: "serverError", status: 503 });
    const planId = await submitClose(r);
    const res = await waitResult(r, planId);
    expect(res).toMatchObject({ decision: "ERROR", reason: "internal_error", executed: "False" });
    expect(res.detail).toMatch(/^lookup=failed error=".+" sent=false$/);
    expect(rig.fake.ordersFor(`qp3-c-${planId}`)).toHaveLength(0);
  });

  it("a rejected order is ERROR exchange_rejected with the exchange code in detail", async () => {
    rig.fake.injectFault({
      method: "POST",
      path: "/fapi/v1/order",
      kind: "reject",
      code: -2022,
      msg: "ReduceOnly Order is rejected.",
    });
    const planId = await submitClose(r);
    const res = await waitResult(r, planId);
    expect(res).toMatchObject({ decision: "ERROR", reason: "exchange_rejected", executed: "False" });
    expect(res.detail).toContain("-2022");
    expect(await r.hget(keys.execRecord(planId), "state")).toBe("REJECTED");
  });

  it("429 with Retry-After past APPLY_RATE_LIMIT_MAX_WAIT_MS: BLOCKED exchange_rate_limited, nothing resent", async () => {
    rig.fake.injectFault({ method: "POST", path: "/fapi/v1/order", kind: "rateLimit", retryAfterSec: 1 });
    const planId = await submitClose(r);
    const res = await waitResult(r, planId);
    expect(res).toMatchObject({ decision: "BLOCKED", reason: "exchange_rate_limited", executed: "False" });
    expect(rig.fake.ordersFor(`qp3-c-${planId}`)).toHaveLength(0);
    const posts = rig.fake
      .requests()
      .filter((q) => q.method === "POST" && q.params.newClientOrderId === `qp3-c-${planId}`);
    expect(posts).toHaveLength(1);
    const m = await scrapeMetrics(live.port);
    expect(metricValue(m, "exchange_rate_limited_total")).toBeGreaterThanOrEqual(1);
    // After Retry-After the next plan goes through.
    await eventually(
      async () => {
        const next = await submitClose(r);
        const out = await waitResult(r, next);
        if (out.decision !== "EXECUTE") throw new Error(`still ${out.reason}`);
        return true;
      },
      { timeoutMs: 15_000, intervalMs: 500 },
    );
  });
});

describe("two instances, one standing proposal", () => {
  it("one plan, one result, one order", async () => {
    const r = rig.redis.client(4);
    const [a, b] = await Promise.all([startApply(rig.redis, rig.env(4)), startApply(rig.redis, rig.env(4))]);
    try {
      const planId = await writeProposal(r, proposal("ETHUSDT", { action: "FULL_CLOSE_PROPOSED" }));
      await waitPlan(r, planId);
      await grantGovernor(r, planId, "ETHUSDT");
      await allowP33(r, planId, "ETHUSDT", "0.500", "-10.000");
      expect(await waitResult(r, planId)).toMatchObject({
        decision: "EXECUTE",
        executed: "True",
        side: "BUY",
      });
      await eventually(async () => {
        const hits = await Promise.all(
          [a, b].map(async (s) =>
            metricValue(await scrapeMetrics(s.port), "quantum_apply_dedupe_hits_total"),
          ),
        );
        return hits.every((h) => h >= 3);
      });
      expect(await plansFor(r, planId)).toHaveLength(1);
      expect(await resultsFor(r, planId)).toHaveLength(1);
      expect(rig.fake.ordersFor(`qp3-c-${planId}`)).toHaveLength(1);
    } finally {
      await Promise.all([a.proc.stop(), b.proc.stop()]);
    }
  });
});

describe("hedge mode and the TESTNET bypass", () => {
  it("hedge mode sends positionSide instead of reduceOnly", async () => {
    const r = rig.redis.client(2);
    const hedge = await startFakeBinance({
      ...API,
      dualSidePosition: true,
      positions: [
        { symbol: "BTCUSDT", positionAmt: "0.500", markPrice: "60000", positionSide: "LONG" },
        { symbol: "BTCUSDT", positionAmt: "-0.300", markPrice: "60000", positionSide: "SHORT" },
      ],
    });
    const apply = await startApply(rig.redis, { ...rig.env(2), BINANCE_BASE_URL: hedge.baseUrl });
    try {
      // A permit that does not name the leg: the venue's position mode and the position's sign decide.
      const planId = await submitClose(r, "BTCUSDT", "0.500");
      expect(await waitResult(r, planId)).toMatchObject({ decision: "EXECUTE", executed: "True" });
      const [order] = hedge.ordersFor(`qp3-c-${planId}`);
      expect(order).toMatchObject({ side: "SELL", positionSide: "LONG", reduceOnly: false });

      // A hedge-leg permit: the order closes that leg (side opposite to it, positionSide, no reduceOnly).
      const legPlan = await streamProposal(r, proposal("BTCUSDT", { positionSide: "SHORT" }));
      await waitPlan(r, legPlan);
      await grantGovernor(r, legPlan, "BTCUSDT");
      await allowP33(r, legPlan, "BTCUSDT", "0.300", "-0.300", { positionSide: "SHORT" });
      expect(await waitResult(r, legPlan)).toMatchObject({ decision: "EXECUTE", executed: "True" });
      const [legOrder] = hedge.ordersFor(`qp3-c-${legPlan}`);
      expect(legOrder).toMatchObject({
        side: "BUY",
        positionSide: "SHORT",
        reduceOnly: false,
        origQty: "0.300",
      });
      expect(Number(hedge.position("BTCUSDT", "SHORT")?.positionAmt)).toBe(0);
    } finally {
      await apply.proc.stop();
      await hedge.close();
    }
  });

  it("TESTNET=true bypasses both permits, sizes from the venue position, counts testnet_bypass", async () => {
    const r = rig.redis.client(3);
    const apply = await startApply(rig.redis, { ...rig.env(3), TESTNET: "true" });
    try {
      const planId = await streamProposal(r, proposal("ETHUSDT", { action: "PARTIAL_50" }));
      const res = await waitResult(r, planId);
      expect(res).toMatchObject({ decision: "EXECUTE", executed: "True", side: "BUY", permit_wait_ms: "0" });
      const [order] = rig.fake.ordersFor(`qp3-c-${planId}`);
      expect(Number(order?.origQty)).toBe(Number(res.executed_qty));
      expect(Number(res.executed_qty)).toBeGreaterThan(0);
      expect(
        metricValue(await scrapeMetrics(apply.port), "apply_executed_total", { status: "testnet_bypass" }),
      ).toBe(1);
      expect(
        apply.proc
          .logs()
          .some((l) =>
            String(l.msg).endsWith("TESTNET MODE ENABLED - permit bypass active (NO PRODUCTION USAGE)"),
          ),
      ).toBe(true);
    } finally {
      await apply.proc.stop();
    }
  });
});

describe("paper venue: a client id is placed once, so its MARKET orders go out without a lookup first", () => {
  it("an order already stored for the plan's client id (claim lost with Redis data) is returned, never filled again", async () => {
    const r = rig.redis.client(5);
    await r.set(keys.killSwitch, "false");
    await seedPaperPosition(r, "BTCUSDT", "1.000", "60000.0");
    const apply = await startApply(rig.redis, {
      REDIS_URL: rig.redis.url(5),
      APPLY_ALLOWLIST: "BTCUSDT",
      APPLY_PERMIT_WAIT_MS: "5000",
    });
    try {
      loadScripts(r, [EXCHANGE_SCRIPTS]);
      const clientOrderId = await closeWithOrderAlreadyPlaced(r, new PaperExchange({ redis: r }), "0.990");
      expect(await paperFills(r, clientOrderId)).toHaveLength(1);
      expect(await r.hget(keys.paperPosition("BTCUSDT"), "position_amt")).toBe("0.99");
    } finally {
      await apply.proc.stop();
    }
  });
});
