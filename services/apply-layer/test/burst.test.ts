import { keys } from "@quantum/contracts";
import {
  eventually,
  type FakeBinance,
  type FakeSymbolSpec,
  startFakeBinance,
  startTestRedis,
  type TestRedis,
} from "@quantum/testkit";
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
import { startVenueProxy, type VenueProxy } from "./venue-proxy.js";

// A burst of closes larger than the venue's short order limit, through a real Apply Layer process against a
// FakeBinance that enforces its limits. Both are scaled down alike (20 orders per 2 s instead of 300 per 10 s)
// so a burst takes seconds: the Apply Layer keeps to 90 % of that, 18 orders per interval.
const ORDER_LIMIT = { limit: 20, intervalMs: 2_000 };
const API = { apiKey: "burst-key", apiSecret: "burst-secret" };
let redis: TestRedis;

beforeAll(async () => {
  redis = await startTestRedis();
});

afterAll(async () => {
  await redis?.stop();
});

interface Rig {
  readonly r: Redis;
  readonly fake: FakeBinance;
  readonly proxy: VenueProxy;
  readonly apply: RunningService;
  readonly symbols: string[];
  stop(): Promise<void>;
}

/** `n` symbols B000USDT…, each with an open long of 10 at mark 2.5; an Apply Layer trading all of them. */
async function startRig(db: number, n: number): Promise<Rig> {
  const specs: FakeSymbolSpec[] = Array.from({ length: n }, (_, i) => ({
    symbol: `B${String(i).padStart(3, "0")}USDT`,
    stepSize: "0.1",
    minQty: "0.1",
    maxQty: "1000000",
    tickSize: "0.001",
    minNotional: "5",
  }));
  const symbols = specs.map((s) => s.symbol);
  const fake = await startFakeBinance({
    ...API,
    symbols: specs,
    positions: symbols.map((symbol) => ({ symbol, positionAmt: "10.0", markPrice: "2.5" })),
    // Orders already on the way when another client's usage makes one 429 are refused too, not a ban.
    rateLimits: { ordersShort: ORDER_LIMIT, inFlightGraceMs: 250 },
  });
  const proxy = await startVenueProxy(fake.baseUrl);
  const r = redis.client(db);
  await r.set(keys.killSwitch, "false");
  const apply = await startApply(
    redis,
    testnetEnv(redis, db, proxy.baseUrl, API, {
      APPLY_ALLOWLIST: symbols.join(","),
      APPLY_PERMIT_WAIT_MS: "20000",
      APPLY_TEST_ORDER_LIMIT: `${ORDER_LIMIT.limit}/${ORDER_LIMIT.intervalMs}`,
      APPLY_LOG_LEVEL: "info",
    }),
  );
  return {
    r,
    fake,
    proxy,
    apply,
    symbols,
    async stop() {
      await apply.proc.stop();
      await proxy.close();
      await fake.close();
    },
  };
}

/** One FULL_CLOSE per symbol at once, each granted by the governor and allowed by P3.3; the plan ids. */
async function burst(rig: Rig): Promise<string[]> {
  return Promise.all(
    rig.symbols.map(async (symbol) => {
      const planId = await streamProposal(
        rig.r,
        proposal(symbol, { action: "FULL_CLOSE_PROPOSED", killScore: 0.5 }),
      );
      await waitPlan(rig.r, planId);
      await grantGovernor(rig.r, planId, symbol);
      await allowP33(rig.r, planId, symbol, "10.0", "10.0");
      return planId;
    }),
  );
}

const clientId = (planId: string): string => `qp3-c-${planId}`;

function filled(fake: FakeBinance, planId: string): number {
  return fake.ordersFor(clientId(planId)).filter((o) => o.status === "FILLED").length;
}

function allPosts(fake: FakeBinance): number {
  return fake.requests().filter((q) => q.method === "POST" && q.path === "/fapi/v1/order").length;
}

function allFills(fake: FakeBinance, planIds: readonly string[]): number {
  return planIds.reduce((n, id) => n + filled(fake, id), 0);
}

describe("a burst of closes above the venue's short order limit", () => {
  it("40 closes at 20 orders / 2 s: every one filled once, no request answered 429", async () => {
    const rig = await startRig(0, 40);
    try {
      const planIds = await burst(rig);
      for (const planId of planIds) {
        expect(await waitResult(rig.r, planId, 20_000)).toMatchObject({
          decision: "EXECUTE",
          executed: "True",
        });
      }
      expect(rig.fake.rateLimitRefusals()).toEqual({ status429: 0, status418: 0 });
      expect(allFills(rig.fake, planIds)).toBe(40);
      expect(allPosts(rig.fake)).toBe(40);
      for (const symbol of rig.symbols) expect(rig.fake.position(symbol)?.positionAmt).toBe("0.0");
      // The account's position mode (weight 30) is asked once for the whole burst, not once per plan.
      expect(rig.fake.requests().filter((q) => q.path === "/fapi/v1/positionSide/dual")).toHaveLength(1);
    } finally {
      await rig.stop();
    }
  });

  it("another client fills the interval mid-burst: the 429 delays, nothing is dropped", async () => {
    const rig = await startRig(1, 40);
    try {
      const pending = burst(rig);
      await eventually(() => rig.fake.requests().filter((q) => q.method === "POST").length >= 10, {
        timeoutMs: 15_000,
      });
      // The next order request finds the account's interval used up by another client (a second process).
      rig.proxy.addRule({
        method: "POST",
        path: "/fapi/v1/order",
        before: async () => rig.fake.addRateLimitUsage({ orders: ORDER_LIMIT.limit }),
      });
      const planIds = await pending;
      for (const planId of planIds) {
        expect(await waitResult(rig.r, planId, 20_000)).toMatchObject({
          decision: "EXECUTE",
          executed: "True",
        });
      }
      const refusals = rig.fake.rateLimitRefusals();
      expect(refusals.status429).toBeGreaterThanOrEqual(1);
      expect(refusals.status418).toBe(0);
      for (const planId of planIds) expect(filled(rig.fake, planId)).toBe(1);
      // Every POST the venue accepted is one fill: refused ones were sent again, none twice filled.
      expect(allPosts(rig.fake) - refusals.status429).toBe(40);
      for (const symbol of rig.symbols) expect(rig.fake.position(symbol)?.positionAmt).toBe("0.0");
    } finally {
      await rig.stop();
    }
  });

  it("the kill switch set while orders wait for the venue's limits stops every waiting order", async () => {
    const rig = await startRig(2, 60);
    try {
      const pending = burst(rig);
      await eventually(() => rig.fake.requests().filter((q) => q.method === "POST").length >= 5, {
        timeoutMs: 15_000,
      });
      await rig.r.set(keys.killSwitch, "true");
      const planIds = await pending;
      const results = await Promise.all(planIds.map((id) => waitResult(rig.r, id, 20_000)));
      let blocked = 0;
      for (const [i, res] of results.entries()) {
        const planId = planIds[i] as string;
        if (res.decision === "EXECUTE") {
          expect(filled(rig.fake, planId)).toBe(1);
          continue;
        }
        expect(res).toMatchObject({ decision: "BLOCKED", reason: "kill_switch_active" });
        expect(orderPosts(rig.fake, clientId(planId))).toBe(0);
        blocked += 1;
      }
      // At most one interval's share (18) was sent before the switch; every order still waiting was stopped.
      expect(blocked).toBeGreaterThanOrEqual(60 - 2 * 18);
      expect(rig.fake.rateLimitRefusals()).toEqual({ status429: 0, status418: 0 });
    } finally {
      await rig.r.set(keys.killSwitch, "false");
      await rig.stop();
    }
  });
});
