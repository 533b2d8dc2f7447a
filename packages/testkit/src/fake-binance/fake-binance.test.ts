import { createHmac } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeBinance } from "./server.js";
import type { FakeBinance } from "./types.js";

const KEY = "testKey-0123456789";
const SECRET = "testSecret-9876543210";
let fake: FakeBinance;

interface Reply {
  status: number;
  body: unknown;
  headers: Headers;
}

async function call(
  method: string,
  path: string,
  params: Record<string, string>,
  opts: { secret?: string; key?: string | null; body?: Record<string, string>; timestamp?: number } = {},
): Promise<Reply> {
  const query = new URLSearchParams({
    ...params,
    timestamp: String(opts.timestamp ?? Date.now()),
  }).toString();
  const body = opts.body !== undefined ? new URLSearchParams(opts.body).toString() : "";
  const sig = createHmac("sha256", opts.secret ?? SECRET)
    .update(query + body)
    .digest("hex");
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (opts.key !== null) headers["X-MBX-APIKEY"] = opts.key ?? KEY;
  const res = await fetch(`${fake.baseUrl}${path}?${query}&signature=${sig}`, {
    method,
    headers,
    ...(body !== "" ? { body } : {}),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

beforeAll(async () => {
  fake = await startFakeBinance({ apiKey: KEY, apiSecret: SECRET });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.clearFaults();
  fake.setDualSidePosition(false);
  fake.setPosition("BTCUSDT", "0.500", "60000");
});

describe("FakeBinance request security", () => {
  it("binds to loopback with no trailing slash", () => {
    expect(fake.baseUrl).toBe(`http://127.0.0.1:${fake.port}`);
  });

  it("verifies HMAC-SHA256 over query + body, the API key and the timestamp", async () => {
    const ok = await call("GET", "/fapi/v1/positionSide/dual", {});
    expect(ok).toMatchObject({ status: 200, body: { dualSidePosition: false } });
    expect(await call("GET", "/fapi/v1/positionSide/dual", {}, { secret: "other" })).toMatchObject({
      status: 400,
      body: { code: -1022 },
    });
    expect(await call("GET", "/fapi/v1/positionSide/dual", {}, { key: null })).toMatchObject({
      status: 401,
      body: { code: -2014 },
    });
    expect(await call("GET", "/fapi/v1/positionSide/dual", {}, { key: "wrong" })).toMatchObject({
      status: 401,
      body: { code: -2015 },
    });
    expect(
      await call("GET", "/fapi/v1/positionSide/dual", {}, { timestamp: Date.now() - 10_000 }),
    ).toMatchObject({
      body: { code: -1021 },
    });
    expect(
      await call("GET", "/fapi/v1/positionSide/dual", {}, { timestamp: Date.now() + 5_000 }),
    ).toMatchObject({
      body: { code: -1021, msg: "Timestamp for this request was 1000ms ahead of the server's time." },
    });
    const withBody = await call(
      "POST",
      "/fapi/v1/order",
      { symbol: "BTCUSDT", side: "SELL", type: "MARKET" },
      { body: { quantity: "0.100", reduceOnly: "true", newClientOrderId: "body-1" } },
    );
    expect(withBody.status).toBe(200);
    expect(fake.position("BTCUSDT")?.positionAmt).toBe("0.400");
  });

  it("answers unknown paths with 404 and every answer with the weight header", async () => {
    const res = await fetch(`${fake.baseUrl}/fapi/v9/nothing`);
    expect(res.status).toBe(404);
    expect(Number(res.headers.get("x-mbx-used-weight-1m"))).toBeGreaterThanOrEqual(0);
  });
});

describe("FakeBinance trading rules", () => {
  it("tracks orders by client id and ACK-mode returns NEW", async () => {
    const params = { symbol: "BTCUSDT", side: "SELL", type: "MARKET", quantity: "0.010", reduceOnly: "true" };
    const ack = await call("POST", "/fapi/v1/order", { ...params, newClientOrderId: "ack-1" });
    expect(ack.body).toMatchObject({ status: "NEW", executedQty: "0.000", clientOrderId: "ack-1" });
    expect(ack.headers.get("x-mbx-order-count-1m")).toBe(String(fake.orderCount1m()));
    expect(fake.ordersFor("ack-1")).toMatchObject([{ status: "FILLED", executedQty: "0.010" }]);
    expect(fake.counts("ack-1")).toEqual({ posts: 1, fills: 1 });
  });

  it("a filled MARKET order re-sent with the same client id fills again (ids are unique only while open)", async () => {
    const params = { symbol: "BTCUSDT", side: "SELL", type: "MARKET", quantity: "0.010", reduceOnly: "true" };
    const before = fake.counts();
    await call("POST", "/fapi/v1/order", { ...params, newClientOrderId: "again-1" });
    const second = await call("POST", "/fapi/v1/order", { ...params, newClientOrderId: "again-1" });
    expect(second).toMatchObject({ status: 200, body: { clientOrderId: "again-1" } });
    expect(fake.ordersFor("again-1")).toHaveLength(2);
    expect(fake.counts("again-1")).toEqual({ posts: 2, fills: 2 });
    expect(fake.counts()).toEqual({ posts: before.posts + 2, fills: before.fills + 2 });
    expect(fake.position("BTCUSDT")?.positionAmt).toBe("0.480");
  });

  it("refuses a client id with -4116 while its order is open, and accepts it again once canceled", async () => {
    const stop = {
      algoType: "CONDITIONAL",
      symbol: "BTCUSDT",
      side: "SELL",
      type: "STOP_MARKET",
      triggerPrice: "50000.0",
      closePosition: "true",
      clientAlgoId: "stop-dup-1",
    };
    expect((await call("POST", "/fapi/v1/algoOrder", stop)).status).toBe(200);
    expect(await call("POST", "/fapi/v1/algoOrder", stop)).toMatchObject({ body: { code: -4116 } });
    expect(fake.ordersFor("stop-dup-1")).toHaveLength(1);
    await call("DELETE", "/fapi/v1/algoOrder", { clientAlgoId: "stop-dup-1" });
    expect((await call("POST", "/fapi/v1/algoOrder", stop)).status).toBe(200);
    expect(fake.ordersFor("stop-dup-1").map((o) => o.status)).toEqual(["CANCELED", "NEW"]);
    expect(fake.counts("stop-dup-1")).toEqual({ posts: 3, fills: 0 });
  });

  it("applies quantity filters, min notional and the hedge-mode position sides", async () => {
    const base = { symbol: "BTCUSDT", side: "BUY", type: "MARKET" };
    expect((await call("POST", "/fapi/v1/order", { ...base, quantity: "0.0005" })).body).toMatchObject({
      code: -1111,
    });
    expect((await call("POST", "/fapi/v1/order", { ...base, quantity: "121" })).body).toMatchObject({
      code: -4005,
    });
    expect((await call("POST", "/fapi/v1/order", { ...base, quantity: "0.001" })).body).toMatchObject({
      code: -4164,
    });
    expect(
      (await call("POST", "/fapi/v1/order", { ...base, quantity: "0.001", positionSide: "LONG" })).body,
    ).toMatchObject({
      code: -4061,
    });
    expect(
      (await call("POST", "/fapi/v1/order", { ...base, symbol: "NOPE", quantity: "1" })).body,
    ).toMatchObject({
      code: -1121,
    });
    fake.setDualSidePosition(true);
    fake.setPosition("BTCUSDT", "0.300", "60000", { positionSide: "LONG" });
    const risk = await call("GET", "/fapi/v2/positionRisk", { symbol: "BTCUSDT" });
    expect((risk.body as { positionSide: string }[]).map((p) => p.positionSide)).toEqual(["LONG", "SHORT"]);
    const closeLong = await call("POST", "/fapi/v1/order", {
      ...base,
      side: "SELL",
      positionSide: "LONG",
      quantity: "0.100",
      newOrderRespType: "RESULT",
    });
    expect(closeLong.body).toMatchObject({ status: "FILLED", positionSide: "LONG" });
    expect(fake.position("BTCUSDT", "LONG")?.positionAmt).toBe("0.200");
    expect(
      (
        await call("POST", "/fapi/v1/order", {
          ...base,
          side: "SELL",
          positionSide: "LONG",
          quantity: "0.100",
          reduceOnly: "true",
        })
      ).body,
    ).toMatchObject({ code: -1106 });
  });

  it("answers after filling with a 2xx other than 200, or with a body that does not parse", async () => {
    const params = {
      symbol: "BTCUSDT",
      side: "SELL",
      type: "MARKET",
      quantity: "0.010",
      reduceOnly: "true",
      newOrderRespType: "RESULT",
    };
    fake.injectFault({ method: "POST", path: "/fapi/v1/order", kind: "statusAfterFill" });
    const accepted = await call("POST", "/fapi/v1/order", { ...params, newClientOrderId: "s202-1" });
    expect(accepted).toMatchObject({ status: 202, body: { status: "FILLED", clientOrderId: "s202-1" } });
    expect(fake.counts("s202-1")).toEqual({ posts: 1, fills: 1 });
    fake.injectFault({ method: "POST", path: "/fapi/v1/order", kind: "garbledAfterFill" });
    const q = new URLSearchParams({
      ...params,
      newClientOrderId: "garbled-1",
      timestamp: String(Date.now()),
    });
    const sig = createHmac("sha256", SECRET).update(q.toString()).digest("hex");
    const res = await fetch(`${fake.baseUrl}/fapi/v1/order?${q.toString()}&signature=${sig}`, {
      method: "POST",
      headers: { "X-MBX-APIKEY": KEY },
    });
    expect(res.status).toBe(200);
    await expect(res.clone().json()).rejects.toThrow();
    expect(fake.counts("garbled-1")).toEqual({ posts: 1, fills: 1 });
    expect(fake.position("BTCUSDT")?.positionAmt).toBe("0.480");
  });

  it("delays a slow request before processing it, and every answer by the reply delay", async () => {
    fake.injectFault({ method: "GET", path: "/fapi/v1/time", kind: "slow", delayMs: 150 });
    const t0 = performance.now();
    expect((await fetch(`${fake.baseUrl}/fapi/v1/time`)).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    fake.setReplyDelay({ minMs: 80, maxMs: 120 });
    try {
      const t1 = performance.now();
      await fetch(`${fake.baseUrl}/fapi/v1/time`);
      expect(performance.now() - t1).toBeGreaterThanOrEqual(75);
    } finally {
      fake.setReplyDelay(null);
    }
    expect(fake.requests().at(-2)?.fault).toBe("slow");
  });

  it("a fault for one client order id waits for the request about that order", async () => {
    const params = { symbol: "BTCUSDT", side: "SELL", type: "MARKET", quantity: "0.010", reduceOnly: "true" };
    fake.injectFault({
      method: "POST",
      path: "/fapi/v1/order",
      kind: "reject",
      code: -1001,
      msg: "Internal error; unable to process your request. Please try again.",
      clientOrderId: "target-1",
    });
    const other = await call("POST", "/fapi/v1/order", { ...params, newClientOrderId: "other-1" });
    expect(other.status).toBe(200);
    const target = await call("POST", "/fapi/v1/order", { ...params, newClientOrderId: "target-1" });
    expect(target).toMatchObject({ status: 400, body: { code: -1001 } });
    expect(fake.counts("target-1")).toEqual({ posts: 1, fills: 0 });
    expect(
      fake
        .requests()
        .map((r) => r.fault)
        .slice(-2),
    ).toEqual([null, "reject"]);
  });

  it("an order placed on the account directly is filled without a request in the log", () => {
    const before = fake.requests().length;
    const body = fake.placeOrder({
      symbol: "BTCUSDT",
      side: "SELL",
      type: "MARKET",
      quantity: "0.010",
      reduceOnly: "true",
      newClientOrderId: "direct-1",
      newOrderRespType: "RESULT",
    });
    expect(body).toMatchObject({ clientOrderId: "direct-1", status: "FILLED" });
    expect(fake.counts("direct-1")).toEqual({ posts: 0, fills: 1 });
    expect(fake.requests()).toHaveLength(before);
  });

  it("serves faults in order, N times, then answers normally", async () => {
    fake.injectFault({
      method: "GET",
      path: "/fapi/v1/time",
      kind: "reject",
      code: -1000,
      msg: "boom",
      times: 2,
    });
    const r1 = await fetch(`${fake.baseUrl}/fapi/v1/time`);
    const r2 = await fetch(`${fake.baseUrl}/fapi/v1/time`);
    const r3 = await fetch(`${fake.baseUrl}/fapi/v1/time`);
    expect([r1.status, r2.status, r3.status]).toEqual([400, 400, 200]);
    fake.injectFault({
      method: "GET",
      path: "/fapi/v1/time",
      kind: "rateLimit",
      status: 418,
      retryAfterSec: 7,
    });
    const banned = await fetch(`${fake.baseUrl}/fapi/v1/time`);
    expect(banned.status).toBe(418);
    expect(banned.headers.get("retry-after")).toBe("7");
    expect(
      fake
        .requests()
        .slice(-4)
        .map((r) => r.fault),
    ).toEqual(["reject", "reject", null, "rateLimit"]);
  });
});
