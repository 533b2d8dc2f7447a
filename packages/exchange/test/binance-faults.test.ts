import { type FakeBinance, freePort, startFakeBinance } from "@quantum/testkit";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { BinanceUsdmExchange, BinanceUsdmExchangeOptions } from "../src/binance.js";
import { clientOrderIdFor, type OrderRequest } from "../src/index.js";
import { API_KEY, API_SECRET, fakeVenueAdapter, RecordingObserver } from "./helpers.js";

let fake: FakeBinance;
let observer: RecordingObserver;
let ex: BinanceUsdmExchange;
let seq = 0;

function exchange(over: Partial<BinanceUsdmExchangeOptions> = {}): BinanceUsdmExchange {
  return fakeVenueAdapter(fake.baseUrl, { timeoutMs: 400, observer, ...over });
}

function close(qty = "0.010"): OrderRequest {
  seq += 1;
  return {
    symbol: "BTCUSDT",
    side: "SELL",
    type: "MARKET",
    quantity: qty,
    reduceOnly: true,
    clientOrderId: clientOrderIdFor(`fault-plan-${seq}`),
  };
}

beforeAll(async () => {
  fake = await startFakeBinance({ apiKey: API_KEY, apiSecret: API_SECRET });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  observer = new RecordingObserver();
  fake.clearFaults();
  fake.setClockSkew(0);
  fake.setPosition("BTCUSDT", "1.000", "60000");
  ex = exchange();
  await ex.serverTime(); // clock synced, so each test's first order request is the one under test
  fake.clearRequests();
});

const ORDER = { method: "POST", path: "/fapi/v1/order" } as const;

describe("every fault class maps to the right outcome", () => {
  it.each([
    [-2022, "ReduceOnly Order is rejected."],
    [-4164, "Order's notional must be no smaller than 100 (unless you choose reduce only)."],
    [-1111, "Precision is over the maximum defined for this asset."],
    [-2019, "Margin is insufficient."],
    [-4003, "Quantity less than or equal to zero."],
    [-4004, "Quantity less than min quantity."],
    [-4005, "Quantity greater than max quantity."],
  ])("code %i → rejected", async (code, msg) => {
    fake.injectFault({ ...ORDER, kind: "reject", code, msg });
    expect(await ex.placeOrder(close())).toEqual({ kind: "rejected", code, msg });
    expect(observer.outcomes("new_order")).toEqual(["rejected"]);
  });

  it.each([-1000, -1006, -1007])("code %i → unknown (execution status unknown)", async (code) => {
    fake.injectFault({
      ...ORDER,
      kind: "reject",
      code,
      msg: "Execution status unknown.",
      status: code === -1007 ? 408 : 400,
    });
    const out = await ex.placeOrder(close());
    expect(out.kind).toBe("unknown");
    if (out.kind === "unknown") expect(out.detail).toContain(String(code));
    expect(observer.outcomes("new_order")).toEqual(["unknown"]);
  });

  it.each([-1022, -2014, -2015, -4061])("code %i → fatal", async (code) => {
    fake.injectFault({
      ...ORDER,
      kind: "reject",
      code,
      msg: "nope",
      status: code === -2015 || code === -2014 ? 401 : 400,
    });
    expect(await ex.placeOrder(close())).toEqual({ kind: "fatal", code, msg: "nope" });
    expect(observer.outcomes("new_order")).toEqual(["fatal"]);
  });

  it.each([500, 502, 503, 504])("HTTP %i → unknown", async (status) => {
    fake.injectFault({ ...ORDER, kind: "serverError", status });
    const out = await ex.placeOrder(close());
    expect(out).toMatchObject({ kind: "unknown" });
    if (out.kind === "unknown") expect(out.detail).toContain(`http ${status}`);
  });

  it("a hung request times out → unknown, never failed", async () => {
    fake.injectFault({ ...ORDER, kind: "hang" });
    const t0 = Date.now();
    const out = await ex.placeOrder(close());
    expect(out.kind).toBe("unknown");
    if (out.kind === "unknown") expect(out.detail).toMatch(/timeout/i);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(observer.outcomes("new_order")).toEqual(["unknown"]);
  });

  it("429 → rateLimited with Retry-After; later calls wait it out (or give up unsent past their bound)", async () => {
    fake.injectFault({ ...ORDER, kind: "rateLimit", status: 429, retryAfterSec: 1 });
    const t0 = performance.now();
    expect(await ex.placeOrder(close())).toEqual({ kind: "rateLimited", retryAfterMs: 1000, code: -1003 });
    expect(observer.rateLimits).toEqual([1000]);
    expect(observer.outcomes("new_order")).toEqual(["rate_limited"]);
    const before = fake.requests().length;
    const second = await ex.placeOrder(close(), { maxWaitMs: 0 });
    expect(second.kind).toBe("rateLimited");
    if (second.kind === "rateLimited") expect(second.retryAfterMs).toBeLessThanOrEqual(1000);
    expect(fake.requests().length).toBe(before);
    const positions = await ex.getPositions();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(990);
    expect(positions.find((p) => p.symbol === "BTCUSDT")?.positionAmt).toBe("1.000");
    expect(fake.requests().map((r) => r.path)).toEqual(["/fapi/v1/order", "/fapi/v2/positionRisk"]);
  });

  it("418 (IP ban) → rateLimited with its Retry-After", async () => {
    fake.injectFault({ ...ORDER, kind: "rateLimit", status: 418, retryAfterSec: 120 });
    expect(await ex.placeOrder(close())).toEqual({ kind: "rateLimited", retryAfterMs: 120_000, code: -1003 });
  });

  it("-1015 (too many orders) on HTTP 400 → rateLimited", async () => {
    fake.injectFault({ ...ORDER, kind: "reject", code: -1015, msg: "Too many new orders." });
    const out = await ex.placeOrder(close());
    expect(out).toMatchObject({ kind: "rateLimited", code: -1015 });
  });

  it("connection refused before sending → notSent", async () => {
    const port = await freePort();
    const dead = exchange({ baseUrl: `http://127.0.0.1:${port}` });
    const out = await dead.placeOrder(close());
    expect(out.kind).toBe("notSent");
    if (out.kind === "notSent") expect(out.detail).toContain("ECONNREFUSED");
  });

  it("no outcome text carries the API key, the secret or a signature", async () => {
    const outs = [];
    for (const fault of [
      { kind: "serverError" as const },
      { kind: "hang" as const },
      { kind: "dropAfterFill" as const },
      { kind: "reject" as const, code: -1000, msg: "x" },
    ]) {
      fake.injectFault({ ...ORDER, ...fault });
      outs.push(await ex.placeOrder(close()));
    }
    const text = JSON.stringify(outs);
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(API_SECRET);
    expect(text).not.toMatch(/signature=[0-9a-f]{16}/);
  });
});

describe("fail-safe outcomes: only what provably never left this process is notSent", () => {
  it("a 2xx other than 200 carrying a FILLED body → unknown (the order filled once; never resent)", async () => {
    fake.injectFault({ ...ORDER, kind: "statusAfterFill", status: 202 });
    const order = close("0.100");
    const out = await ex.placeOrder(order);
    expect(out.kind).toBe("unknown");
    if (out.kind === "unknown") expect(out.detail).toContain("202");
    expect(JSON.stringify(out)).not.toContain(API_KEY);
    expect(fake.counts(order.clientOrderId)).toEqual({ posts: 1, fills: 1 });
    expect(await ex.getOrder("BTCUSDT", order.clientOrderId)).toMatchObject({
      kind: "found",
      order: { status: "FILLED", executedQty: "0.100" },
    });
  });

  it("a 200 whose body does not parse → unknown", async () => {
    fake.injectFault({ ...ORDER, kind: "garbledAfterFill" });
    const order = close("0.100");
    expect((await ex.placeOrder(order)).kind).toBe("unknown");
    expect(fake.counts(order.clientOrderId)).toEqual({ posts: 1, fills: 1 });
  });

  it("an HTTP error without a Binance error code → unknown, not rejected", async () => {
    fake.injectFault({ ...ORDER, kind: "serverError", status: 404, body: "<html>not here</html>" });
    expect((await ex.placeOrder(close())).kind).toBe("unknown");
  });

  it("a cancel answered with a 2xx other than 200 or an unparsable body → unknown", async () => {
    const stop: OrderRequest = {
      symbol: "BTCUSDT",
      side: "SELL",
      type: "STOP_MARKET",
      closePosition: true,
      stopPrice: "50000.0",
      clientOrderId: clientOrderIdFor(`fault-stop-${++seq}`),
    };
    expect((await ex.placeOrder(stop)).kind).toBe("accepted");
    const ALGO = { method: "DELETE", path: "/fapi/v1/algoOrder" } as const;
    fake.injectFault({ ...ALGO, kind: "statusAfterFill", status: 202 });
    expect((await ex.cancelOrder("BTCUSDT", stop.clientOrderId, { conditional: true })).kind).toBe("unknown");
    expect(fake.ordersFor(stop.clientOrderId)[0]?.status).toBe("CANCELED");
  });

  it("a 2xx other than 200 on a lookup is a failed lookup (unknown), not an order", async () => {
    const order = close();
    expect((await ex.placeOrder(order)).kind).toBe("filled");
    fake.injectFault({ method: "GET", path: "/fapi/v1/order", kind: "statusAfterFill", status: 203 });
    expect((await ex.getOrder("BTCUSDT", order.clientOrderId)).kind).toBe("unknown");
  });
});

describe("lost responses and clock drift", () => {
  it("after a dropped response the order is found by client id, so no second order is sent", async () => {
    fake.injectFault({ ...ORDER, kind: "dropAfterFill" });
    const order = close("0.250");
    const out = await ex.placeOrder(order);
    expect(out.kind).toBe("unknown");
    const q = await ex.getOrder("BTCUSDT", order.clientOrderId);
    expect(q).toMatchObject({
      kind: "found",
      order: { status: "FILLED", executedQty: "0.250", clientOrderId: order.clientOrderId },
    });
    expect(fake.ordersFor(order.clientOrderId)).toHaveLength(1);
    expect(fake.position("BTCUSDT")?.positionAmt).toBe("0.750");
  });

  it("a timed-out order that never reached the book is reported notFound", async () => {
    fake.injectFault({ ...ORDER, kind: "hang" });
    const order = close();
    expect((await ex.placeOrder(order)).kind).toBe("unknown");
    expect(await ex.getOrder("BTCUSDT", order.clientOrderId)).toEqual({ kind: "notFound" });
  });

  it("-1021 triggers exactly one clock resync and one retry", async () => {
    fake.setClockSkew(30_000); // the server clock jumps ahead; our offset is stale
    const order = close();
    const out = await ex.placeOrder(order);
    expect(out.kind).toBe("filled");
    const seen = fake.requests().map((r) => `${r.method} ${r.path} ${r.code ?? r.status}`);
    expect(seen).toEqual(["POST /fapi/v1/order -1021", "GET /fapi/v1/time 200", "POST /fapi/v1/order 200"]);
    expect(fake.ordersFor(order.clientOrderId)).toHaveLength(1);
  });

  it("a second -1021 is returned as rejected, with no third attempt", async () => {
    fake.injectFault({
      ...ORDER,
      kind: "reject",
      code: -1021,
      msg: "Timestamp for this request is outside of the recvWindow.",
      times: 2,
    });
    const out = await ex.placeOrder(close());
    expect(out).toMatchObject({ kind: "rejected", code: -1021 });
    expect(fake.requests().filter((r) => r.path === "/fapi/v1/order")).toHaveLength(2);
    expect(fake.requests().filter((r) => r.path === "/fapi/v1/time")).toHaveLength(1);
  });

  it("a failed clock sync means the order was not sent", async () => {
    const fresh = exchange();
    fake.injectFault({ method: "GET", path: "/fapi/v1/time", kind: "serverError" });
    const out = await fresh.placeOrder(close());
    expect(out.kind).toBe("notSent");
    expect(fake.requests().filter((r) => r.path === "/fapi/v1/order")).toHaveLength(0);
  });
});
