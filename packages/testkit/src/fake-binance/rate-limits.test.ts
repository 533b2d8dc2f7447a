import { createHmac } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { BINANCE_USDM_RATE_LIMITS, FakeRateLimiter, type FakeRateLimits } from "./rate-limits.js";
import { startFakeBinance } from "./server.js";
import type { FakeBinance } from "./types.js";

const KEY = "limitsKey-0123456789";
const SECRET = "limitsSecret-9876543210";
// Intervals of an hour: a test never straddles the venue's interval boundary in practice.
const HOUR = 3_600_000;
let fake: FakeBinance | null = null;

async function start(rateLimits: Partial<FakeRateLimits>): Promise<FakeBinance> {
  fake = await startFakeBinance({
    apiKey: KEY,
    apiSecret: SECRET,
    rateLimits,
    positions: [{ symbol: "BTCUSDT", positionAmt: "1.000", markPrice: "60000" }],
  });
  return fake;
}

afterEach(async () => {
  await fake?.close();
  fake = null;
});

async function time(f: FakeBinance): Promise<Response> {
  return fetch(`${f.baseUrl}/fapi/v1/time`);
}

let seq = 0;
/** A signed reduce-only MARKET close of 0.001 BTC. */
async function order(f: FakeBinance): Promise<Response> {
  seq += 1;
  const query = new URLSearchParams({
    symbol: "BTCUSDT",
    side: "SELL",
    type: "MARKET",
    quantity: "0.001",
    reduceOnly: "true",
    newClientOrderId: `limits-${seq}`,
    timestamp: String(Date.now()),
  }).toString();
  const sig = createHmac("sha256", SECRET).update(query).digest("hex");
  return fetch(`${f.baseUrl}/fapi/v1/order?${query}&signature=${sig}`, {
    method: "POST",
    headers: { "X-MBX-APIKEY": KEY },
  });
}

describe("FakeBinance rate limits", () => {
  it("defaults to Binance USDⓈ-M's published limits", () => {
    expect(BINANCE_USDM_RATE_LIMITS).toMatchObject({
      weight: { limit: 2400, intervalMs: 60_000 },
      ordersShort: { limit: 300, intervalMs: 10_000 },
      ordersLong: { limit: 1200, intervalMs: 60_000 },
    });
  });

  it("counts weight on every answer and orders on order answers, in the headers", async () => {
    const f = await start({ weight: { limit: 100, intervalMs: HOUR } });
    const t = await time(f);
    expect(t.headers.get("x-mbx-used-weight-1m")).toBe("1");
    expect(t.headers.get("x-mbx-order-count-10s")).toBeNull();
    const o = await order(f);
    expect(o.status).toBe(200);
    expect(o.headers.get("x-mbx-used-weight-1m")).toBe("1"); // a new order weighs 0 on the IP limit
    expect(o.headers.get("x-mbx-order-count-10s")).toBe("1");
    expect(o.headers.get("x-mbx-order-count-1m")).toBe("1");
    f.addRateLimitUsage({ weight: 10, orders: 4 });
    const o2 = await order(f);
    expect(o2.headers.get("x-mbx-used-weight-1m")).toBe("11");
    expect(o2.headers.get("x-mbx-order-count-10s")).toBe("6");
    expect([f.usedWeight1m(), f.orderCount10s(), f.orderCount1m()]).toEqual([11, 6, 6]);
  });

  it("answers 429 -1003 past the weight limit, with Retry-After until the interval ends", async () => {
    const f = await start({ weight: { limit: 3, intervalMs: HOUR }, banAfterViolations: 100 });
    for (let i = 0; i < 3; i++) expect((await time(f)).status).toBe(200);
    const r = await time(f);
    expect(r.status).toBe(429);
    expect(await r.json()).toEqual({
      code: -1003,
      msg: "Too much request weight used; current limit is 3 request weight per 60 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.",
    });
    const retryAfter = Number(r.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(f.rateLimitRefusals()).toEqual({ status429: 1, status418: 0 });
  });

  it("answers 429 -1015 past either order limit and does not count the refused order", async () => {
    const f = await start({
      ordersShort: { limit: 2, intervalMs: HOUR },
      ordersLong: { limit: 3, intervalMs: HOUR },
      banAfterViolations: 100,
    });
    expect((await order(f)).status).toBe(200);
    expect((await order(f)).status).toBe(200);
    const r = await order(f);
    expect(r.status).toBe(429);
    expect(await r.json()).toMatchObject({
      code: -1015,
      msg: "Too many new orders; current limit is 2 orders per 60 MINUTE.",
    });
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(f.orderCount10s()).toBe(2);
    expect(f.orders()).toHaveLength(2);
    // Reads are not order requests: an order 429 does not hold them back.
    expect((await time(f)).status).toBe(200);
  });

  it("bans with 418 a client that keeps sending through its Retry-After, longer on each ban", async () => {
    const f = await start({ weight: { limit: 1, intervalMs: HOUR }, banAfterViolations: 2, banMs: 5_000 });
    expect((await time(f)).status).toBe(200);
    expect((await time(f)).status).toBe(429);
    expect((await time(f)).status).toBe(429); // first request during the Retry-After
    const banned = await time(f); // second: banned
    expect(banned.status).toBe(418);
    expect(banned.headers.get("retry-after")).toBe("5");
    expect(await banned.json()).toMatchObject({ code: -1003 });
    expect((await order(f)).status).toBe(418);
    expect(f.rateLimitRefusals()).toEqual({ status429: 2, status418: 2 });
    f.resetRateLimits();
    expect(f.rateLimitRefusals()).toEqual({ status429: 0, status418: 0 });
    expect((await time(f)).status).toBe(200);
  });

  it("doubles the ban for a repeat offender", () => {
    const l = new FakeRateLimiter({
      weight: { limit: 1, intervalMs: 1_000 },
      banAfterViolations: 1,
      banMs: 2_000,
    });
    expect(l.admit(1, false, 0)).toEqual({ kind: "ok" });
    expect(l.admit(1, false, 10)).toMatchObject({ status: 429, retryAfterSec: 1 });
    expect(l.admit(1, false, 20)).toMatchObject({ status: 418, retryAfterSec: 2 });
    expect(l.admit(1, false, 2_019)).toMatchObject({ status: 418, retryAfterSec: 1 });
    expect(l.admit(1, false, 3_000)).toEqual({ kind: "ok" });
    expect(l.admit(1, false, 3_001)).toMatchObject({ status: 429 });
    expect(l.admit(1, false, 3_002)).toMatchObject({ status: 418, retryAfterSec: 4 });
  });

  it("does not count requests arriving within inFlightGraceMs of the 429 toward a ban", () => {
    const l = new FakeRateLimiter({
      ordersShort: { limit: 1, intervalMs: 10_000 },
      banAfterViolations: 1,
      inFlightGraceMs: 100,
    });
    expect(l.admit(0, true, 0)).toEqual({ kind: "ok" });
    expect(l.admit(0, true, 10)).toMatchObject({ status: 429, code: -1015 });
    // Sent concurrently with the refused one: refused too, not a ban.
    expect(l.admit(0, true, 50)).toMatchObject({ status: 429 });
    expect(l.admit(0, true, 109)).toMatchObject({ status: 429 });
    // Sent after the client could have read the 429: banned.
    expect(l.admit(0, true, 110)).toMatchObject({ status: 418 });
  });

  it("injected 429 / 418 faults are counted as refusals too", async () => {
    const f = await start({});
    f.injectFault({ method: "GET", path: "/fapi/v1/time", kind: "rateLimit", status: 418, retryAfterSec: 7 });
    expect((await time(f)).status).toBe(418);
    expect(f.rateLimitRefusals()).toEqual({ status429: 0, status418: 1 });
  });
});
