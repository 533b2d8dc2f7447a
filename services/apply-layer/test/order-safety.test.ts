import { keys } from "@quantum/contracts";
import { DEFAULT_FAKE_SYMBOLS, eventually } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allowP33,
  grantGovernor,
  orderPosts,
  proposal,
  type RunningService,
  startApply,
  streamProposal,
  testnetEnv,
  waitPlan,
  waitResult,
} from "./helpers.js";
import { useTestnetRig } from "./rig.js";

// Every order request: looked up by client id first, then the submit gate (kill switch, trading state, lock) as
// the very last step, then the request; fail-safe outcomes; bounded rate-limit waits; closes above maxQty in
// chunks. Counted at the fake venue (POSTs and fills), through a real Apply Layer process.
const API = { apiKey: "safety-key", apiSecret: "safety-secret" };
const rig = useTestnetRig({
  api: API,
  venue: {
    // ETHUSDT: market maxQty 0.4, so a close of 1.0 goes out in three chunks.
    symbols: DEFAULT_FAKE_SYMBOLS.map((s) => (s.symbol === "ETHUSDT" ? { ...s, marketMaxQty: "0.4" } : s)),
    positions: [
      { symbol: "BTCUSDT", positionAmt: "1.000", markPrice: "60000" },
      { symbol: "ETHUSDT", positionAmt: "-5.000", markPrice: "3000" },
    ],
  },
  dbs: [0],
  viaProxy: true,
  env: { APPLY_PERMIT_WAIT_MS: "10000", APPLY_RATE_LIMIT_MAX_WAIT_MS: "5000" },
});
let live: RunningService;
let r: Redis;

beforeAll(async () => {
  r = rig.redis.client(0);
  live = await startApply(rig.redis, rig.env(0));
});

afterAll(async () => {
  await live?.proc.stop();
});

async function submitClose(symbol: string, safeQty: string, amt: string, over = {}): Promise<string> {
  const planId = await streamProposal(r, proposal(symbol));
  await waitPlan(r, planId);
  await grantGovernor(r, planId, symbol);
  await allowP33(r, planId, symbol, safeQty, amt, over);
  return planId;
}

describe("the submit gate is the last step before the request", () => {
  it("a kill switch SET while the client-id lookup is in flight: no order POSTed", async () => {
    rig.proxy.addRule({
      method: "GET",
      path: "/fapi/v1/order",
      before: async () => {
        await r.set(keys.killSwitch, "true");
      },
    });
    try {
      const planId = await submitClose("BTCUSDT", "0.010", "1.000");
      expect(await waitResult(r, planId)).toMatchObject({
        decision: "BLOCKED",
        reason: "kill_switch_active",
      });
      expect(orderPosts(rig.fake, `qp3-c-${planId}`)).toBe(0);
      expect(rig.fake.ordersFor(`qp3-c-${planId}`)).toHaveLength(0);
    } finally {
      await r.set(keys.killSwitch, "false");
    }
  });
});

describe("fail-safe outcomes", () => {
  it("a 202 with a FILLED body: one POST, one fill, result EXECUTE", async () => {
    rig.proxy.addRule({ method: "POST", path: "/fapi/v1/order", status: 202 });
    const planId = await submitClose("BTCUSDT", "0.010", "1.000");
    expect(await waitResult(r, planId)).toMatchObject({
      decision: "EXECUTE",
      executed: "True",
      executed_qty: "0.010",
    });
    expect(orderPosts(rig.fake, `qp3-c-${planId}`)).toBe(1);
    expect(rig.fake.ordersFor(`qp3-c-${planId}`).filter((o) => o.status === "FILLED")).toHaveLength(1);
  });
});

describe("venue of the P3.3 permit", () => {
  it("an allow sized on another venue: BLOCKED venue_mismatch, nothing sent", async () => {
    const planId = await submitClose("BTCUSDT", "0.010", "1.000", { venue: "paper" });
    expect(await waitResult(r, planId)).toMatchObject({ decision: "BLOCKED", reason: "venue_mismatch" });
    expect(orderPosts(rig.fake, `qp3-c-${planId}`)).toBe(0);
  });
});

describe("rate limits after the permits were consumed", () => {
  it("429 once: waits Retry-After, passes the gate again, sends", async () => {
    rig.fake.injectFault({ method: "POST", path: "/fapi/v1/order", kind: "rateLimit", retryAfterSec: 1 });
    const planId = await submitClose("BTCUSDT", "0.010", "1.000");
    expect(await waitResult(r, planId)).toMatchObject({ decision: "EXECUTE", executed: "True" });
    expect(orderPosts(rig.fake, `qp3-c-${planId}`)).toBe(2);
    expect(rig.fake.ordersFor(`qp3-c-${planId}`)).toHaveLength(1);
  });

  it("the kill switch set during the wait: nothing sent after it", async () => {
    rig.fake.injectFault({ method: "POST", path: "/fapi/v1/order", kind: "rateLimit", retryAfterSec: 2 });
    const planId = await submitClose("BTCUSDT", "0.010", "1.000");
    try {
      await eventually(() => orderPosts(rig.fake, `qp3-c-${planId}`) === 1, { timeoutMs: 10_000 });
      await r.set(keys.killSwitch, "true");
      expect(await waitResult(r, planId)).toMatchObject({
        decision: "BLOCKED",
        reason: "kill_switch_active",
      });
      expect(orderPosts(rig.fake, `qp3-c-${planId}`)).toBe(1);
      expect(rig.fake.ordersFor(`qp3-c-${planId}`)).toHaveLength(0);
    } finally {
      await r.set(keys.killSwitch, "false");
    }
  });
});

describe("a close above the symbol's maxQty", () => {
  it("goes out in chunks of at most maxQty, each once, and the result sums them", async () => {
    const planId = await submitClose("ETHUSDT", "1.000", "-5.000");
    const res = await waitResult(r, planId);
    const cids = [`qp3-c-${planId}`, `qp3-c-${planId}-1`, `qp3-c-${planId}-2`];
    const orders = cids.map((c) => rig.fake.ordersFor(c));
    expect(orders.map((o) => o.length)).toEqual([1, 1, 1]);
    expect(orders.map((o) => o[0]?.origQty)).toEqual(["0.400", "0.400", "0.200"]);
    expect(orders.every((o) => o[0]?.side === "BUY" && o[0]?.reduceOnly)).toBe(true);
    expect(Number(res.executed_qty)).toBe(1);
    expect(res).toMatchObject({
      decision: "EXECUTE",
      executed: "True",
      avg_price: "3000",
      client_order_id: cids.join(","),
      order_id: orders.map((o) => String(o[0]?.orderId)).join(","),
    });
    expect(Number(rig.fake.position("ETHUSDT")?.positionAmt)).toBe(-4);
  });
});

describe("a chunked close killed after its first chunk filled", () => {
  it("the restart sends the remaining chunks, each once, and one result sums all of them", async () => {
    const r1 = rig.redis.client(1);
    await r1.set(keys.killSwitch, "false");
    const env = testnetEnv(rig.redis, 1, rig.fake.baseUrl, API, { APPLY_PERMIT_WAIT_MS: "10000" });
    const consumer = "chunks-crash";
    const crashing = await startApply(rig.redis, { ...env, APPLY_TEST_CRASH_AT: "after_fill" }, { consumer });
    const planId = await streamProposal(r1, proposal("ETHUSDT"));
    await waitPlan(r1, planId);
    await grantGovernor(r1, planId, "ETHUSDT");
    await allowP33(r1, planId, "ETHUSDT", "1.000", "-4.000");
    expect(await crashing.proc.exited).toBe("SIGKILL");
    const cids = [`qp3-c-${planId}`, `qp3-c-${planId}-1`, `qp3-c-${planId}-2`];
    expect(cids.map((c) => rig.fake.ordersFor(c).length)).toEqual([1, 0, 0]);

    const restarted = await startApply(rig.redis, env, { consumer });
    try {
      const res = await waitResult(r1, planId);
      expect(cids.map((c) => rig.fake.ordersFor(c).length)).toEqual([1, 1, 1]);
      expect(cids.map((c) => orderPosts(rig.fake, c))).toEqual([1, 1, 1]);
      expect(res).toMatchObject({ decision: "EXECUTE", executed: "True", client_order_id: cids.join(",") });
      expect(Number(res.executed_qty)).toBe(1);
    } finally {
      await restarted.proc.stop();
    }
  });
});
