import { type FakeBinance, startFakeBinance } from "@quantum/testkit";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { BinanceUsdmExchange } from "../src/binance.js";
import { clientOrderIdFor, ExchangeRequestError } from "../src/index.js";
import { API_KEY, API_SECRET, RecordingObserver } from "./helpers.js";

let fake: FakeBinance;
let observer: RecordingObserver;
let ex: BinanceUsdmExchange;

function exchange(
  over: Partial<ConstructorParameters<typeof BinanceUsdmExchange>[0]> = {},
): BinanceUsdmExchange {
  return new BinanceUsdmExchange({
    venue: "testnet",
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    baseUrl: fake.baseUrl,
    allowLoopback: true,
    timeoutMs: 1500,
    observer,
    ...over,
  });
}

beforeAll(async () => {
  fake = await startFakeBinance({ apiKey: API_KEY, apiSecret: API_SECRET });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  observer = new RecordingObserver();
  ex = exchange();
  fake.clearFaults();
  fake.clearRequests();
  fake.setClockSkew(0);
  fake.setDualSidePosition(false);
});

describe("BinanceUsdmExchange against FakeBinance (real USDMClient over HTTP)", () => {
  const consoleSpies: ReturnType<typeof vi.spyOn>[] = [];
  beforeEach(() => {
    consoleSpies.push(vi.spyOn(console, "warn"), vi.spyOn(console, "error"), vi.spyOn(console, "log"));
  });
  afterEach(() => {
    for (const s of consoleSpies.splice(0)) {
      expect(s).not.toHaveBeenCalled();
      s.mockRestore();
    }
  });

  it("places a signed reduce-only MARKET order with our client id and gets the fill", async () => {
    fake.setPosition("BTCUSDT", "0.050", "60120.5");
    const id = clientOrderIdFor("ba3cbf84bf17f3a2");
    const out = await ex.placeOrder({
      symbol: "BTCUSDT",
      side: "SELL",
      type: "MARKET",
      quantity: "0.020",
      reduceOnly: true,
      clientOrderId: id,
    });
    expect(out).toMatchObject({ kind: "filled", clientOrderId: id, status: "FILLED", executedQty: "0.020" });
    if (out.kind !== "filled") throw new Error("not filled");
    expect(out.avgPrice).toBe("60120.50000000");
    expect(fake.position("BTCUSDT")?.positionAmt).toBe("0.030");
    const sent = fake.requests().find((r) => r.method === "POST" && r.path === "/fapi/v1/order");
    expect(sent?.params).toMatchObject({
      newClientOrderId: id,
      quantity: "0.020",
      reduceOnly: "true",
      newOrderRespType: "RESULT",
      recvWindow: "5000",
    });
    expect(fake.ordersFor(id)).toHaveLength(1);
    expect(observer.outcomes("new_order")).toEqual(["ok"]);
  });

  it("syncs the clock from /fapi/v1/time before the first signed call", async () => {
    await ex.getPositions();
    const paths = fake.requests().map((r) => r.path);
    expect(paths).toEqual(["/fapi/v1/time", "/fapi/v2/positionRisk"]);
    await ex.getPositions();
    expect(fake.requests().filter((r) => r.path === "/fapi/v1/time")).toHaveLength(1);
  });

  it("reads all positions in one call", async () => {
    fake.setPosition("ETHUSDT", "-1.250", "3001.5", { entryPrice: "3040.12" });
    const positions = await ex.getPositions();
    const eth = positions.find((p) => p.symbol === "ETHUSDT");
    expect(eth).toMatchObject({
      positionAmt: "-1.250",
      markPrice: "3001.50000000",
      positionSide: "BOTH",
      leverage: "20",
    });
    expect(eth?.unrealizedPnl).toBe("48.27500000");
    expect(positions.map((p) => p.symbol).sort()).toEqual(["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"]);
    expect(fake.requests().filter((r) => r.path === "/fapi/v2/positionRisk")).toHaveLength(1);
  });

  it("caches exchangeInfo: concurrent and repeated rule lookups share one fetch", async () => {
    const [btc, eth, none] = await Promise.all([
      ex.getSymbolRules("BTCUSDT"),
      ex.getSymbolRules("ETHUSDT"),
      ex.getSymbolRules("NOPEUSDT"),
    ]);
    await ex.getSymbolRules("BTCUSDT");
    expect(btc).toEqual({
      symbol: "BTCUSDT",
      stepSize: "0.001",
      minQty: "0.001",
      maxQty: "120",
      tickSize: "0.10",
      minNotional: "100",
      status: "TRADING",
    });
    expect(eth?.maxQty).toBe("2000");
    expect(none).toBeNull();
    expect(fake.requests().filter((r) => r.path === "/fapi/v1/exchangeInfo")).toHaveLength(1);
  });

  it("refetches exchangeInfo after the TTL and keeps stale rules when the refresh fails", async () => {
    const short = exchange({ exchangeInfoTtlMs: 1 });
    expect((await short.getSymbolRules("BTCUSDT"))?.stepSize).toBe("0.001");
    fake.injectFault({ method: "GET", path: "/fapi/v1/exchangeInfo", kind: "serverError", status: 502 });
    await new Promise((r) => setTimeout(r, 5));
    expect((await short.getSymbolRules("BTCUSDT"))?.stepSize).toBe("0.001");
    expect(fake.requests().filter((r) => r.path === "/fapi/v1/exchangeInfo")).toHaveLength(2);
    // within the retry pause the stale rules are served without another fetch
    await short.getSymbolRules("BTCUSDT");
    expect(fake.requests().filter((r) => r.path === "/fapi/v1/exchangeInfo")).toHaveLength(2);
  });

  it("reports the position mode", async () => {
    expect(await ex.getPositionMode()).toBe("one_way");
    fake.setDualSidePosition(true);
    expect(await ex.getPositionMode()).toBe("hedge");
  });

  it("returns the exchange clock", async () => {
    fake.setClockSkew(120_000);
    const t = await ex.serverTime();
    expect(Math.abs(t - (Date.now() + 120_000))).toBeLessThan(1_000);
  });

  it("finds an order by client id, reports notFound for an unknown one", async () => {
    fake.setPosition("ETHUSDT", "2.000", "3000");
    const id = clientOrderIdFor("plan-query-1");
    await ex.placeOrder({
      symbol: "ETHUSDT",
      side: "SELL",
      type: "MARKET",
      quantity: "0.500",
      reduceOnly: true,
      clientOrderId: id,
    });
    const found = await ex.getOrder("ETHUSDT", id);
    expect(found).toMatchObject({
      kind: "found",
      order: { clientOrderId: id, status: "FILLED", executedQty: "0.500", side: "SELL", reduceOnly: true },
    });
    expect(await ex.getOrder("ETHUSDT", clientOrderIdFor("never-sent"))).toEqual({ kind: "notFound" });
    expect(observer.outcomes("query_order")).toEqual(["ok", "ok"]);
  });

  it("places, finds and cancels a protective STOP_MARKET (closePosition) on the algo endpoint", async () => {
    fake.setPosition("BTCUSDT", "0.100", "60000");
    const id = clientOrderIdFor("plan-sl-1", "stop");
    const out = await ex.placeOrder({
      symbol: "BTCUSDT",
      side: "SELL",
      type: "STOP_MARKET",
      stopPrice: "41000.0",
      closePosition: true,
      clientOrderId: id,
    });
    expect(out).toMatchObject({ kind: "accepted", clientOrderId: id, status: "NEW" });
    const sent = fake.requests().find((r) => r.path === "/fapi/v1/algoOrder" && r.method === "POST");
    expect(sent?.params).toMatchObject({
      algoType: "CONDITIONAL",
      type: "STOP_MARKET",
      triggerPrice: "41000.0",
      closePosition: "true",
      clientAlgoId: id,
      workingType: "MARK_PRICE",
    });
    expect(sent?.params.reduceOnly).toBeUndefined();
    expect(await ex.getOrder("BTCUSDT", id, { conditional: true })).toMatchObject({
      kind: "found",
      order: {
        clientOrderId: id,
        type: "STOP_MARKET",
        status: "NEW",
        closePosition: true,
        stopPrice: "41000.0",
      },
    });
    expect(await ex.cancelOrder("BTCUSDT", id, { conditional: true })).toMatchObject({
      kind: "canceled",
      clientOrderId: id,
    });
    expect(await ex.cancelOrder("BTCUSDT", id, { conditional: true })).toEqual({ kind: "notOpen" });
    expect(fake.ordersFor(id)[0]?.status).toBe("CANCELED");
  });

  it("cancelling a filled or unknown regular order reports notOpen", async () => {
    fake.setPosition("BTCUSDT", "0.100", "60000");
    const id = clientOrderIdFor("plan-cancel-1");
    await ex.placeOrder({
      symbol: "BTCUSDT",
      side: "SELL",
      type: "MARKET",
      quantity: "0.010",
      reduceOnly: true,
      clientOrderId: id,
    });
    expect(await ex.cancelOrder("BTCUSDT", id)).toEqual({ kind: "notOpen" });
    expect(await ex.cancelOrder("BTCUSDT", "qp3-c-nothing")).toEqual({ kind: "notOpen" });
  });

  it("a wrong secret is rejected by the fake (-1022) and is fatal; the secret never appears", async () => {
    const wrong = exchange({ apiSecret: "wrongSecret-000000000000" });
    const out = await wrong.placeOrder({
      symbol: "BTCUSDT",
      side: "SELL",
      type: "MARKET",
      quantity: "0.001",
      reduceOnly: true,
      clientOrderId: "qp3-c-wrongsecret",
    });
    expect(out).toEqual({ kind: "fatal", code: -1022, msg: "Signature for this request is not valid." });
    expect(fake.orders().some((o) => o.clientOrderId === "qp3-c-wrongsecret")).toBe(false);
    const err = await wrong.getPositions().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExchangeRequestError);
    expect(JSON.stringify(err)).not.toContain("wrongSecret");
    expect(String((err as Error).message)).not.toContain(API_KEY);
  });

  it("a wrong API key is fatal (-2015)", async () => {
    const wrong = exchange({ apiKey: "someOtherKey-1234567890" });
    await expect(wrong.getPositionMode()).rejects.toMatchObject({ failure: { kind: "fatal", code: -2015 } });
  });

  it("the venue refuses a client id only while its order is open: a filled MARKET re-sent fills again", async () => {
    fake.setPosition("BTCUSDT", "0.100", "60000");
    const id = clientOrderIdFor("plan-dup-1");
    const order = {
      symbol: "BTCUSDT",
      side: "SELL",
      type: "MARKET",
      quantity: "0.010",
      reduceOnly: true,
      clientOrderId: id,
    } as const;
    expect((await ex.placeOrder(order)).kind).toBe("filled");
    // The adapter sends what it is asked to: a second placeOrder is a second fill at the venue, which is
    // why callers look an order up by client id and never resend one whose outcome is unknown.
    expect((await ex.placeOrder(order)).kind).toBe("filled");
    expect(fake.counts(id)).toEqual({ posts: 2, fills: 2 });
    expect(fake.position("BTCUSDT")?.positionAmt).toBe("0.080");
    const stop = {
      symbol: "BTCUSDT",
      side: "SELL",
      type: "STOP_MARKET",
      closePosition: true,
      stopPrice: "50000.0",
      clientOrderId: clientOrderIdFor("plan-dup-stop-1"),
    } as const;
    expect((await ex.placeOrder(stop)).kind).toBe("accepted");
    expect(await ex.placeOrder(stop)).toEqual({
      kind: "rejected",
      code: -4116,
      msg: "ClientOrderId is duplicated.",
    });
    expect(fake.counts(stop.clientOrderId)).toEqual({ posts: 2, fills: 0 });
    expect(fake.ordersFor(stop.clientOrderId)).toHaveLength(1);
  });

  it("a reduce-only order larger than the position is rejected with -2022", async () => {
    fake.setPosition("BTCUSDT", "0.010", "60000");
    const out = await ex.placeOrder({
      symbol: "BTCUSDT",
      side: "SELL",
      type: "MARKET",
      quantity: "0.020",
      reduceOnly: true,
      clientOrderId: "qp3-c-toobig",
    });
    expect(out).toEqual({ kind: "rejected", code: -2022, msg: "ReduceOnly Order is rejected." });
    expect(fake.position("BTCUSDT")?.positionAmt).toBe("0.010");
  });

  it("rate-limit headers reach the observer", async () => {
    fake.setPosition("BTCUSDT", "0.100", "60000");
    await ex.getPositions();
    await ex.placeOrder({
      symbol: "BTCUSDT",
      side: "SELL",
      type: "MARKET",
      quantity: "0.010",
      reduceOnly: true,
      clientOrderId: "qp3-c-headers",
    });
    const last = observer.headers.at(-1);
    expect(last).toEqual({ usedWeight1m: fake.usedWeight1m(), orderCount1m: fake.orderCount1m() });
    expect(last?.orderCount1m).toBeGreaterThanOrEqual(1);
    expect(observer.headers.some((h) => h.usedWeight1m !== null && h.orderCount1m === null)).toBe(true);
    expect(observer.requests.every((r) => r.seconds >= 0)).toBe(true);
  });
});
