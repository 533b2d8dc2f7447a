import { eventually, type FakeBinance, type FakeRateLimits, startFakeBinance } from "@quantum/testkit";
import { afterEach, describe, expect, it } from "vitest";
import type { BinanceUsdmExchange, BinanceUsdmExchangeOptions } from "../src/binance.js";
import {
  BINANCE_USDM_LIMITS,
  type BinanceLimitName,
  clientOrderIdFor,
  type OrderOutcome,
  type OrderRequest,
  type VenueLimits,
} from "../src/index.js";
import { API_KEY, API_SECRET, fakeVenueAdapter, RecordingObserver } from "./helpers.js";

let fake: FakeBinance | null = null;
let seq = 0;

afterEach(async () => {
  await fake?.close();
  fake = null;
});

async function startFake(rateLimits: Partial<FakeRateLimits>, btc = "10.000"): Promise<FakeBinance> {
  fake = await startFakeBinance({
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    rateLimits,
    positions: [{ symbol: "BTCUSDT", positionAmt: btc, markPrice: "60000" }],
  });
  return fake;
}

function adapter(
  f: FakeBinance,
  rateLimits: VenueLimits<BinanceLimitName>,
  over: Partial<BinanceUsdmExchangeOptions> = {},
): BinanceUsdmExchange {
  return fakeVenueAdapter(f.baseUrl, { timeoutMs: 5_000, rateLimits, rateLimitMaxWaitMs: 30_000, ...over });
}

function close(): OrderRequest {
  seq += 1;
  return {
    symbol: "BTCUSDT",
    side: "SELL",
    type: "MARKET",
    quantity: "0.001",
    reduceOnly: true,
    clientOrderId: clientOrderIdFor(`throttle-plan-${seq}`),
  };
}

const posts = (f: FakeBinance): number =>
  f.requests().filter((r) => r.method === "POST" && r.path === "/fapi/v1/order").length;
const fills = (f: FakeBinance): number => f.orders().filter((o) => o.status === "FILLED").length;

describe("the Binance adapter keeps under the venue's limits (FakeBinance enforcing them)", () => {
  it("a burst of 700 closes all fill with no 429, close to the time the limits allow", async () => {
    // The venue's 300 / 10 s scaled to 100 / 1 s (same shape, 10× faster).
    const limits = { ordersShort: { limit: 100, intervalMs: 1_000 } };
    const f = await startFake(limits);
    const observer = new RecordingObserver();
    const ex = adapter(f, { ...BINANCE_USDM_LIMITS, orders10s: limits.ordersShort }, { observer });
    await ex.serverTime();
    const t0 = performance.now();
    const outs = await Promise.all(Array.from({ length: 700 }, () => ex.placeOrder(close())));
    const elapsedMs = performance.now() - t0;
    expect(outs.filter((o) => o.kind === "filled")).toHaveLength(700);
    expect(f.rateLimitRefusals()).toEqual({ status429: 0, status418: 0 });
    expect(posts(f)).toBe(700);
    expect(fills(f)).toBe(700);
    expect(f.position("BTCUSDT")?.positionAmt).toBe("9.300");
    // No 1 s interval ever held more than 100 orders, so 700 need at least 6 full intervals (the time the
    // venue's limits allow is 700 / (100 per s) = 7 s). A unit stays charged until an interval after its
    // answer, so each of the 7 waves can also wait for the answers of the wave before: the bound adds the
    // slowest answer per wave (small against the venue's 10 s, large on a loaded 2-core machine).
    const slowestAnswerMs = Math.max(...observer.requests.map((r) => r.seconds * 1000));
    expect(elapsedMs).toBeGreaterThanOrEqual(6_000);
    expect(elapsedMs).toBeLessThanOrEqual(1.1 * (6_000 + 7 * slowestAnswerMs));
  });

  it("an account near its limit (another process) is detected from the headers: the adapter slows down", async () => {
    const interval = 3_000;
    const limits = { ordersShort: { limit: 50, intervalMs: interval } };
    const f = await startFake(limits);
    const ex = adapter(f, { ...BINANCE_USDM_LIMITS, orders10s: limits.ordersShort });
    await ex.serverTime();
    // Start early in one of the venue's intervals, so its count does not reset under the test.
    await eventually(() => expect(Date.now() % interval).toBeLessThan(200), { timeoutMs: interval + 500 });
    f.addRateLimitUsage({ orders: 45 });
    const t0 = performance.now();
    const first = await ex.placeOrder(close());
    expect(first.kind).toBe("filled");
    expect(ex.throttle.state().windows.orders10s).toMatchObject({ used: 1, external: 45 });
    const outs = await Promise.all(Array.from({ length: 19 }, () => ex.placeOrder(close())));
    const elapsedMs = performance.now() - t0;
    expect(outs.filter((o) => o.kind !== "filled")).toEqual([]);
    expect(f.rateLimitRefusals()).toEqual({ status429: 0, status418: 0 });
    expect(posts(f)).toBe(20);
    // Four more fit next to the other process's 45; the other fifteen waited for the interval to pass.
    expect(elapsedMs).toBeGreaterThanOrEqual(interval - 500);
  });

  it("a share keeps the process to its part of the limit", async () => {
    const limits = { ordersShort: { limit: 40, intervalMs: 60_000 } };
    const f = await startFake(limits);
    const ex = adapter(
      f,
      { ...BINANCE_USDM_LIMITS, orders10s: limits.ordersShort },
      {
        rateLimitSharePct: 25,
        rateLimitMaxWaitMs: 200,
      },
    );
    const outs = await Promise.all(Array.from({ length: 12 }, () => ex.placeOrder(close())));
    expect(outs.filter((o) => o.kind === "filled")).toHaveLength(10);
    expect(outs.filter((o) => o.kind === "rateLimited")).toHaveLength(2);
    expect(posts(f)).toBe(10);
    expect(f.rateLimitRefusals()).toEqual({ status429: 0, status418: 0 });
  });

  it("a 429 it did not foresee makes every later call wait the Retry-After; nothing else meets a 429", async () => {
    // The adapter believes the published 300 / 10 s; this venue allows 5 per hour-long interval.
    const f = await startFake({ ordersShort: { limit: 5, intervalMs: 3_600_000 }, banAfterViolations: 1 });
    const ex = adapter(f, BINANCE_USDM_LIMITS);
    const outs: OrderOutcome[] = [];
    for (let i = 0; i < 6; i++) outs.push(await ex.placeOrder(close()));
    expect(outs.slice(0, 5).every((o) => o.kind === "filled")).toBe(true);
    expect(outs[5]).toMatchObject({ kind: "rateLimited", code: -1015 });
    const retryAfterMs = outs[5]?.kind === "rateLimited" ? outs[5].retryAfterMs : 0;
    expect(retryAfterMs).toBeGreaterThan(1_000);
    expect(ex.throttle.state().blockedUntilMs).toBeGreaterThan(0);
    const before = f.requests().length;
    // Within a short bound, calls give up unsent instead of provoking the ban.
    const bounded = await Promise.all([
      ex.placeOrder(close(), { maxWaitMs: 100 }),
      ex.getOrder("BTCUSDT", "whatever", { maxWaitMs: 100 }),
    ]);
    expect(bounded.map((o) => o.kind)).toEqual(["rateLimited", "rateLimited"]);
    expect(f.requests().length).toBe(before);
    expect(f.rateLimitRefusals()).toEqual({ status429: 1, status418: 0 });
  });

  it("after a 429 (or a 418 ban) with Retry-After the next call waits it out, then goes through", async () => {
    for (const status of [429, 418] as const) {
      const f = await startFake({});
      const ex = adapter(f, BINANCE_USDM_LIMITS);
      await ex.serverTime();
      f.injectFault({ method: "POST", path: "/fapi/v1/order", kind: "rateLimit", status, retryAfterSec: 1 });
      const t0 = performance.now();
      expect(await ex.placeOrder(close())).toMatchObject({ kind: "rateLimited", retryAfterMs: 1_000 });
      const [next, read] = await Promise.all([ex.placeOrder(close()), ex.getPositions()]);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(990);
      expect(next.kind).toBe("filled");
      expect(read.length).toBeGreaterThan(0);
      expect(posts(f)).toBe(2);
      expect(f.rateLimitRefusals()).toEqual(
        status === 429 ? { status429: 1, status418: 0 } : { status429: 0, status418: 1 },
      );
      await f.close();
      fake = null;
    }
  });

  it("a clock sync due while a Retry-After runs keeps to the caller's bound and sends nothing", async () => {
    const f = await startFake({});
    const ex = adapter(f, BINANCE_USDM_LIMITS);
    ex.throttle.block(10_000);
    const t0 = performance.now();
    expect(await ex.placeOrder(close(), { maxWaitMs: 50 })).toMatchObject({ kind: "rateLimited" });
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(f.requests()).toEqual([]);
  });

  it("an aborted wait comes back notSent and sends nothing", async () => {
    const f = await startFake({});
    const ex = adapter(f, BINANCE_USDM_LIMITS);
    await ex.serverTime();
    ex.throttle.block(10_000);
    const ac = new AbortController();
    const pending = ex.placeOrder(close(), { signal: ac.signal });
    ac.abort();
    expect(await pending).toMatchObject({ kind: "notSent" });
    expect(posts(f)).toBe(0);
  });
});
