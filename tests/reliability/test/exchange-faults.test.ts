import {
  eventually,
  type FakeFaultSpec,
  type FakeRequestRecord,
  metricValue,
  scrapeMetrics,
} from "@quantum/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { auditExactlyOnce } from "./support/audit.js";
import { recordFigures } from "./support/figures.js";
import { type Rig, startRig } from "./support/rig.js";
import { announceSeed, rng } from "./support/seed.js";
import { type Fields, Traffic } from "./support/traffic.js";

// Every exchange fault the venue can produce ends the plan with the right reason, never
// with a second order, and a 429/418 stops every order request until Retry-After has passed. Faults come from
// FakeBinance; the whole system runs (Apply Layer in testnet mode, P3.3 reading positions from the fake).

const ORDER_PATHS = new Set(["/fapi/v1/order", "/fapi/v1/algoOrder"]);
const POST_ORDER = { method: "POST", path: "/fapi/v1/order" } as const;

let rig: Rig;
let traffic: Traffic;
let seed: number;
let symbols: string[];
let faults = 0;
const t0 = Date.now();

beforeAll(async () => {
  seed = announceSeed("exchange-faults");
  rig = await startRig("faults");
  traffic = new Traffic(rig.r, rig.sys.symbols, { settleMs: 0 });
  // Which symbol each case uses is seeded (positions are identical; it only varies the order of events).
  symbols = rng(seed, "exchange-faults").shuffle(rig.sys.symbols);
});

afterAll(async () => {
  if (rig !== undefined) {
    const audit = await auditExactlyOnce(rig.r, rig.fake);
    recordFigures("exchange-faults", seed, {
      plans: audit.plans,
      faults,
      orders: audit.orders,
      duplicates: audit.duplicateOrders.length + audit.duplicateResults.length,
      lost: audit.lostPlans.length,
      seconds: Math.round((Date.now() - t0) / 1000),
      orderRequests: audit.orderRequests,
      byReason: audit.byReason,
    });
  }
  await rig?.close();
});

/** The next symbol in the seeded rotation (a symbol comes back only after all the others were used). */
afterEach(() => {
  rig?.fake.clearFaults();
});

function nextSymbol(): string {
  const s = symbols.shift();
  if (s === undefined) throw new Error("no symbols");
  symbols.push(s);
  return s;
}

/** Inject `fault` (if any), send one close, wait for its one result. */
async function runPlan(
  fault: FakeFaultSpec | null,
  timeoutMs = 30_000,
): Promise<{ planId: string; clientId: string; res: Fields }> {
  if (fault !== null) {
    rig.fake.injectFault(fault);
    faults++;
  }
  const planId = await traffic.send(nextSymbol());
  if (planId === null) throw new Error("proposal not sent");
  const res = await eventually(
    async () => {
      await traffic.poll();
      const seen = traffic.results.get(planId);
      if (seen === undefined) throw new Error(`no result for ${planId}`);
      return seen.fields;
    },
    { timeoutMs, intervalMs: 50, message: `result of ${planId}` },
  );
  return { planId, clientId: `qp3-c-${planId}`, res };
}

function postsFor(clientId: string): FakeRequestRecord[] {
  return rig.fake.requests().filter((q) => q.method === "POST" && q.params.newClientOrderId === clientId);
}

/**
 * Every signed request about one plan's order, in order: the lookup by client id the Apply Layer makes before
 * its first send (GET, origClientOrderId) and the send itself (POST, newClientOrderId).
 */
function orderRequestsFor(clientId: string): FakeRequestRecord[] {
  return rig.fake
    .requests()
    .filter((q) => q.params.newClientOrderId === clientId || q.params.origClientOrderId === clientId);
}

/** `METHOD code-or-status` of each request, e.g. ["GET -1021", "GET 400", "POST 200"]. */
function outcomes(reqs: readonly FakeRequestRecord[]): string[] {
  return reqs.map((q) => `${q.method} ${q.code ?? q.status}`);
}

describe("exchange faults", () => {
  it("timeout (no answer): looked up by client id, ERROR exchange_unknown_resolved_not_filled, one request", async () => {
    const { clientId, res } = await runPlan({ ...POST_ORDER, kind: "hang" });
    expect(res).toMatchObject({
      decision: "ERROR",
      reason: "exchange_unknown_resolved_not_filled",
      executed: "False",
    });
    expect(postsFor(clientId)).toHaveLength(1);
    expect(rig.fake.ordersFor(clientId)).toHaveLength(0);
    const lookups = rig.fake
      .requests()
      .filter(
        (q) => q.method === "GET" && q.path === "/fapi/v1/order" && q.params.origClientOrderId === clientId,
      );
    expect(lookups.length).toBeGreaterThanOrEqual(1);
  });

  it("response dropped after the fill: found by client id, EXECUTE with the venue's order, no second order", async () => {
    const { clientId, res } = await runPlan({ ...POST_ORDER, kind: "dropAfterFill" });
    const venue = rig.fake.ordersFor(clientId);
    expect(venue).toHaveLength(1);
    expect(res).toMatchObject({
      decision: "EXECUTE",
      executed: "True",
      reason: "none",
      order_id: String(venue[0]?.orderId),
      executed_qty: venue[0]?.executedQty,
    });
    expect(postsFor(clientId)).toHaveLength(1);
    expect(rig.fake.counts(clientId)).toEqual({ posts: 1, fills: 1 });
  });

  for (const fault of [
    { ...POST_ORDER, kind: "statusAfterFill", status: 202 },
    { ...POST_ORDER, kind: "garbledAfterFill" },
  ] as const) {
    it(`${fault.kind} (answer not proven, order filled): resolved by lookup, EXECUTE, one POST and one fill`, async () => {
      const { clientId, res } = await runPlan(fault);
      const venue = rig.fake.ordersFor(clientId);
      expect(venue).toHaveLength(1);
      expect(res).toMatchObject({
        decision: "EXECUTE",
        executed: "True",
        order_id: String(venue[0]?.orderId),
        executed_qty: venue[0]?.executedQty,
      });
      expect(rig.fake.counts(clientId)).toEqual({ posts: 1, fills: 1 });
    });
  }

  it("5xx: ERROR exchange_unknown_resolved_not_filled after the lookup, no second order", async () => {
    const { clientId, res } = await runPlan({ ...POST_ORDER, kind: "serverError", status: 503 });
    expect(res).toMatchObject({
      decision: "ERROR",
      reason: "exchange_unknown_resolved_not_filled",
      executed: "False",
    });
    expect(postsFor(clientId)).toHaveLength(1);
    expect(rig.fake.ordersFor(clientId)).toHaveLength(0);
  });

  it("-2022 ReduceOnly rejected: ERROR exchange_rejected, the code in detail only", async () => {
    const { clientId, res } = await runPlan({
      ...POST_ORDER,
      kind: "reject",
      code: -2022,
      msg: "ReduceOnly Order is rejected.",
    });
    expect(res).toMatchObject({ decision: "ERROR", reason: "exchange_rejected", executed: "False" });
    expect(res.detail).toContain("-2022");
    expect(postsFor(clientId)).toHaveLength(1);
    expect(rig.fake.ordersFor(clientId)).toHaveLength(0);
  });

  it("-1021 (clock 15 s off): one resync and re-signed retry, EXECUTE with exactly one order", async () => {
    rig.fake.setClockSkew(15_000);
    faults++;
    try {
      const { clientId, res } = await runPlan(null);
      expect(res).toMatchObject({ decision: "EXECUTE", executed: "True", reason: "none" });
      // The first signed request about the order (the lookup before the send) meets -1021; after exactly one
      // resync everything is accepted, and exactly one order is sent.
      const seen = outcomes(orderRequestsFor(clientId));
      expect(seen.filter((o) => o.endsWith(" -1021"))).toHaveLength(1);
      expect(seen[0]).toBe("GET -1021");
      expect(outcomes(postsFor(clientId))).toEqual(["POST 200"]);
      expect(rig.fake.ordersFor(clientId)).toHaveLength(1);
    } finally {
      rig.fake.setClockSkew(0);
    }
    // The clock jumps back: the clients' offsets are now 15 s ahead, and the same one resync follows.
    const back = await runPlan(null);
    expect(back.res).toMatchObject({ decision: "EXECUTE", executed: "True" });
    const backSeen = outcomes(orderRequestsFor(back.clientId));
    expect(backSeen.filter((o) => o.endsWith(" -1021"))).toHaveLength(1);
    expect(outcomes(postsFor(back.clientId))).toEqual(["POST 200"]);
  });

  for (const [status, retryAfterSec] of [
    [429, 2],
    [418, 3],
  ] as const) {
    it(`${status} with Retry-After ${retryAfterSec} after the permits were consumed: waits it out, sends once, no order request before it passed`, async () => {
      const first = await runPlan({ ...POST_ORDER, kind: "rateLimit", status, retryAfterSec });
      expect(first.res).toMatchObject({ decision: "EXECUTE", executed: "True" });
      const posts = postsFor(first.clientId);
      expect(posts.map((q) => q.status)).toEqual([status, 200]);
      const limitedAt = (posts[0] as FakeRequestRecord).atMs;
      const until = limitedAt + retryAfterSec * 1000;
      const orderRequests = rig.fake
        .requests()
        .filter((q) => ORDER_PATHS.has(q.path) && q.atMs > limitedAt && q.atMs < until);
      expect(orderRequests).toEqual([]);
      expect((posts[1] as FakeRequestRecord).atMs).toBeGreaterThanOrEqual(until);
      const m = await scrapeMetrics(rig.sys.port("apply"));
      expect(metricValue(m, "exchange_rate_limited_total")).toBeGreaterThanOrEqual(1);
    });
  }

  it("across every fault: one result per plan, no second order, results agree with the venue", async () => {
    const audit = await auditExactlyOnce(rig.r, rig.fake);
    expect(audit.lostPlans).toEqual([]);
    expect(audit.duplicateResults).toEqual([]);
    expect(audit.duplicateOrders).toEqual([]);
    expect(audit.untruthful).toEqual([]);
    for (const s of ["apply", "p33", "p35"] as const) expect(rig.sys.starts(s)).toBe(1);
  });
});
