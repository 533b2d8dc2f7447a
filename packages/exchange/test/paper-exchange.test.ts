import { keys, streams } from "@quantum/contracts";
import { loadScripts } from "@quantum/runtime";
import { startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  clientOrderIdFor,
  createExchange,
  EXCHANGE_SCRIPTS,
  InvalidOrderError,
  type OrderRequest,
  PaperExchange,
  seedPaperPosition,
  setPaperMarkPrice,
} from "../src/index.js";
import { RecordingObserver } from "./helpers.js";

let redis: TestRedis;
let client: Redis;
let paper: PaperExchange;
let observer: RecordingObserver;

/** A client with the paper scripts loaded, as a service loads them at startup. */
function scriptedClient(): Redis {
  const c = redis.client();
  loadScripts(c, [EXCHANGE_SCRIPTS]);
  return c;
}

beforeAll(async () => {
  redis = await startTestRedis();
  client = scriptedClient();
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  await client.flushdb();
  observer = new RecordingObserver();
  paper = new PaperExchange({ redis: client, observer });
});

const close = (symbol: string, side: "BUY" | "SELL", quantity: string, planId: string): OrderRequest => ({
  symbol,
  side,
  type: "MARKET",
  quantity,
  reduceOnly: true,
  clientOrderId: clientOrderIdFor(planId),
});

describe("PaperExchange (real Redis)", () => {
  it("fills a reduce-only MARKET close at the stored mark price and records the fill", async () => {
    await seedPaperPosition(client, "BTCUSDT", "0.050", "60000", "58000");
    await setPaperMarkPrice(client, "BTCUSDT", "61234.5");
    const out = await paper.placeOrder(close("BTCUSDT", "SELL", "0.020", "p1"));
    expect(out).toMatchObject({
      kind: "filled",
      status: "FILLED",
      executedQty: "0.020",
      avgPrice: "61234.5",
    });
    expect(await client.hgetall(keys.paperPosition("BTCUSDT"))).toEqual({
      position_amt: "0.03",
      entry_price: "58000",
      mark_price: "61234.5",
    });
    const entries = await client.xrange(streams.paperOrders, "-", "+");
    expect(entries).toHaveLength(1);
    const fields = Object.fromEntries(
      (entries[0]![1] as string[]).flatMap((v, i, a) => (i % 2 === 0 ? [[v, a[i + 1]]] : [])),
    );
    expect(fields).toMatchObject({
      client_order_id: "qp3-c-p1",
      symbol: "BTCUSDT",
      side: "SELL",
      qty: "0.020",
      price: "61234.5",
      position_amt_before: "0.050",
      position_amt_after: "0.03",
    });
    expect(fields.order_id).toBe(out.kind === "filled" ? out.orderId : "");
    expect(observer.outcomes("new_order")).toEqual(["ok"]);
  });

  it("closes a short with a BUY and a full close leaves a flat position with entry 0", async () => {
    await seedPaperPosition(client, "ETHUSDT", "-1.5", "3000");
    expect((await paper.placeOrder(close("ETHUSDT", "BUY", "1.500", "p2"))).kind).toBe("filled");
    expect(await client.hmget(keys.paperPosition("ETHUSDT"), "position_amt", "entry_price")).toEqual([
      "0",
      "0",
    ]);
  });

  it("rejects reduce-only orders that would exceed, flip, grow or open a position (-2022)", async () => {
    await seedPaperPosition(client, "BTCUSDT", "0.010", "60000");
    const rejected = { kind: "rejected", code: -2022, msg: "ReduceOnly Order is rejected." };
    expect(await paper.placeOrder(close("BTCUSDT", "SELL", "0.011", "x1"))).toEqual(rejected);
    expect(await paper.placeOrder(close("BTCUSDT", "BUY", "0.001", "x2"))).toEqual(rejected);
    expect(await paper.placeOrder(close("SOLUSDT", "SELL", "1", "x3"))).toEqual(rejected);
    expect(await client.hget(keys.paperPosition("BTCUSDT"), "position_amt")).toBe("0.010");
    expect(await client.xlen(streams.paperOrders)).toBe(0);
    expect(await paper.getOrder("BTCUSDT", clientOrderIdFor("x1"))).toEqual({ kind: "notFound" });
  });

  it("checks quantities against the symbol rules with Binance's codes", async () => {
    await seedPaperPosition(client, "BTCUSDT", "200", "60000");
    expect(await paper.placeOrder(close("BTCUSDT", "SELL", "0.0015", "q1"))).toMatchObject({
      kind: "rejected",
      code: -1111,
    });
    expect(await paper.placeOrder(close("BTCUSDT", "SELL", "121", "q2"))).toMatchObject({
      kind: "rejected",
      code: -4005,
    });
    expect(await paper.placeOrder(close("NOPEUSDT", "SELL", "1", "q3"))).toMatchObject({
      kind: "rejected",
      code: -1121,
    });
    expect(
      await paper.placeOrder({ ...close("BTCUSDT", "SELL", "1", "q4"), positionSide: "LONG" }),
    ).toMatchObject({
      kind: "rejected",
      code: -4061,
    });
    const custom = new PaperExchange({
      redis: client,
      rules: [
        {
          symbol: "BTCUSDT",
          stepSize: "0.01",
          minQty: "0.05",
          maxQty: "10",
          tickSize: "0.1",
          minNotional: "5",
          status: "TRADING",
        },
      ],
    });
    expect(await custom.placeOrder(close("BTCUSDT", "SELL", "0.03", "q5"))).toMatchObject({
      kind: "rejected",
      code: -4004,
    });
    expect(await custom.getSymbolRules("BTCUSDT")).toMatchObject({ stepSize: "0.01", minQty: "0.05" });
    expect(await custom.getSymbolRules("ETHUSDT")).toMatchObject({ stepSize: "0.001" });
    expect(await custom.getSymbolRules("NOPEUSDT")).toBeNull();
  });

  it("non-reduce-only orders need min notional and update the entry price", async () => {
    await seedPaperPosition(client, "ETHUSDT", "1", "3000", "2000");
    const open = {
      symbol: "ETHUSDT",
      side: "BUY" as const,
      type: "MARKET" as const,
      clientOrderId: "qp3-o-1",
    };
    expect(await paper.placeOrder({ ...open, quantity: "0.001" })).toMatchObject({
      kind: "rejected",
      code: -4164,
    });
    expect((await paper.placeOrder({ ...open, quantity: "1.000" })).kind).toBe("filled");
    expect(await client.hmget(keys.paperPosition("ETHUSDT"), "position_amt", "entry_price")).toEqual([
      "2",
      "2500",
    ]);
  });

  it("re-submitting one client order id returns the original order and never fills twice", async () => {
    // The Apply Layer sends paper MARKET orders without a lookup first because of this property.
    expect(paper.placesClientIdOnce).toBe(true);
    await seedPaperPosition(client, "BTCUSDT", "0.100", "60000");
    const order = close("BTCUSDT", "SELL", "0.040", "dup");
    const first = await paper.placeOrder(order);
    const second = await paper.placeOrder(order);
    expect(second).toEqual(first);
    expect(await client.hget(keys.paperPosition("BTCUSDT"), "position_amt")).toBe("0.06");
    expect(await client.xlen(streams.paperOrders)).toBe(1);
  });

  it("concurrent submits of the same client order id (several clients) fill exactly once", async () => {
    await seedPaperPosition(client, "BTCUSDT", "1.000", "60000");
    const exchanges = Array.from({ length: 8 }, () => new PaperExchange({ redis: scriptedClient() }));
    const order = close("BTCUSDT", "SELL", "0.300", "race");
    const outs = await Promise.all(exchanges.map((ex) => ex.placeOrder(order)));
    const ids = new Set(outs.map((o) => (o.kind === "filled" ? o.orderId : o.kind)));
    expect(ids.size).toBe(1);
    expect(outs.every((o) => o.kind === "filled")).toBe(true);
    expect(await client.hget(keys.paperPosition("BTCUSDT"), "position_amt")).toBe("0.7");
    expect(await client.xlen(streams.paperOrders)).toBe(1);
  });

  it("concurrent submits of one STOP_MARKET id store one order (the id guard, not the position CAS)", async () => {
    await seedPaperPosition(client, "BTCUSDT", "1.000", "60000");
    const stop: OrderRequest = {
      symbol: "BTCUSDT",
      side: "SELL",
      type: "STOP_MARKET",
      stopPrice: "50000.0",
      closePosition: true,
      clientOrderId: clientOrderIdFor("race-stop", "stop"),
    };
    const outs = await Promise.all(
      Array.from({ length: 8 }, () => new PaperExchange({ redis: scriptedClient() }).placeOrder(stop)),
    );
    expect(new Set(outs.map((o) => (o.kind === "accepted" ? o.orderId : o.kind))).size).toBe(1);
    expect(await client.get(keys.paperOrderSeq)).toBe("1");
  });

  it("concurrent closes with different ids all apply against the latest position (no lost update)", async () => {
    await seedPaperPosition(client, "BTCUSDT", "1.000", "60000");
    const outs = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        new PaperExchange({ redis: scriptedClient() }).placeOrder(
          close("BTCUSDT", "SELL", "0.150", `many-${i}`),
        ),
      ),
    );
    const filled = outs.filter((o) => o.kind === "filled").length;
    expect(filled).toBe(6);
    expect(outs.filter((o) => o.kind === "rejected" && o.code === -2022)).toHaveLength(4);
    expect(await client.hget(keys.paperPosition("BTCUSDT"), "position_amt")).toBe("0.1");
    expect(await client.xlen(streams.paperOrders)).toBe(6);
  });

  it("getOrder finds orders by client id (and symbol)", async () => {
    await seedPaperPosition(client, "BTCUSDT", "0.100", "60000");
    const order = close("BTCUSDT", "SELL", "0.010", "g1");
    const out = await paper.placeOrder(order);
    const q = await paper.getOrder("BTCUSDT", order.clientOrderId);
    expect(q).toMatchObject({
      kind: "found",
      order: {
        clientOrderId: order.clientOrderId,
        status: "FILLED",
        executedQty: "0.010",
        avgPrice: "60000",
        reduceOnly: true,
      },
    });
    if (q.kind === "found" && out.kind === "filled") expect(q.order.orderId).toBe(out.orderId);
    expect(await paper.getOrder("ETHUSDT", order.clientOrderId)).toEqual({ kind: "notFound" });
    expect(await paper.getOrder("BTCUSDT", "qp3-c-none")).toEqual({ kind: "notFound" });
  });

  it("stores STOP_MARKET closePosition orders as accepted (not filled) and cancels them", async () => {
    await seedPaperPosition(client, "BTCUSDT", "0.100", "60000");
    const stop: OrderRequest = {
      symbol: "BTCUSDT",
      side: "SELL",
      type: "STOP_MARKET",
      stopPrice: "55000.0",
      closePosition: true,
      clientOrderId: clientOrderIdFor("sl1", "stop"),
    };
    expect(await paper.placeOrder(stop)).toMatchObject({ kind: "accepted", status: "NEW", executedQty: "0" });
    expect(
      await paper.placeOrder({ ...stop, clientOrderId: "qp3-s-badtick", stopPrice: "55000.05" }),
    ).toMatchObject({
      kind: "rejected",
      code: -4014,
    });
    expect(await client.hget(keys.paperPosition("BTCUSDT"), "position_amt")).toBe("0.100");
    expect(await paper.getOrder("BTCUSDT", stop.clientOrderId)).toMatchObject({
      kind: "found",
      order: { type: "STOP_MARKET", status: "NEW", closePosition: true, stopPrice: "55000.0" },
    });
    expect(await paper.cancelOrder("BTCUSDT", stop.clientOrderId)).toMatchObject({
      kind: "canceled",
      clientOrderId: stop.clientOrderId,
    });
    expect(await paper.cancelOrder("BTCUSDT", stop.clientOrderId)).toEqual({ kind: "notOpen" });
    expect(await paper.cancelOrder("BTCUSDT", "qp3-s-none")).toEqual({ kind: "notOpen" });
    expect(await client.hget(keys.paperOrder(stop.clientOrderId), "status")).toBe("CANCELED");
    expect(await client.xlen(streams.paperOrders)).toBe(0);
  });

  it("lists positions of every symbol with a paper hash, with unrealized PnL", async () => {
    await seedPaperPosition(client, "BTCUSDT", "0.5", "62000", "60000");
    await seedPaperPosition(client, "ETHUSDT", "-2", "2900", "3000");
    await seedPaperPosition(client, "FOOUSDT", "0", "1");
    const positions = await paper.getPositions();
    expect(positions).toEqual([
      {
        symbol: "BTCUSDT",
        positionAmt: "0.5",
        entryPrice: "60000",
        markPrice: "62000",
        unrealizedPnl: "1000",
        leverage: "1",
        positionSide: "BOTH",
      },
      {
        symbol: "ETHUSDT",
        positionAmt: "-2",
        entryPrice: "3000",
        markPrice: "2900",
        unrealizedPnl: "200",
        leverage: "1",
        positionSide: "BOTH",
      },
      {
        symbol: "FOOUSDT",
        positionAmt: "0",
        entryPrice: "0",
        markPrice: "1",
        unrealizedPnl: "0",
        leverage: "1",
        positionSide: "BOTH",
      },
    ]);
    expect(await paper.getPositionMode()).toBe("one_way");
    expect(Math.abs((await paper.serverTime()) - Date.now())).toBeLessThan(5_000);
  });

  it("a paper order without a mark price is not sent; malformed requests throw before Redis", async () => {
    await client.hset(keys.paperPosition("BTCUSDT"), "position_amt", "0.5");
    expect(await paper.placeOrder(close("BTCUSDT", "SELL", "0.1", "nomark"))).toMatchObject({
      kind: "notSent",
    });
    await expect(
      paper.placeOrder({ ...close("BTCUSDT", "SELL", "0.1", "bad"), clientOrderId: "bad id!" }),
    ).rejects.toBeInstanceOf(InvalidOrderError);
    await expect(
      paper.placeOrder({ symbol: "BTCUSDT", side: "SELL", type: "MARKET", clientOrderId: "qp3-c-noqty" }),
    ).rejects.toBeInstanceOf(InvalidOrderError);
  });

  it("createExchange('paper') builds a working paper exchange; Redis loss → notSent, not a throw", async () => {
    const own = scriptedClient();
    const ex = await createExchange("paper", { redis: own, streamMaxLen: 100 });
    await seedPaperPosition(client, "XRPUSDT", "100", "0.5");
    expect(await ex.placeOrder(close("XRPUSDT", "SELL", "10.0", "cx"))).toMatchObject({
      kind: "filled",
      executedQty: "10.0",
    });
    own.disconnect();
    const out = await ex.placeOrder(close("XRPUSDT", "SELL", "10.0", "cx2"));
    expect(out.kind).toBe("notSent");
    await expect(ex.getPositions()).rejects.toMatchObject({ failure: { kind: "notSent" } });
  });
});
