import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  parseAlgoOrder,
  parseExchangeInfo,
  parseOrder,
  parsePositions,
  placedOutcome,
} from "../src/binance-parse.js";
import { MalformedResponseError } from "../src/index.js";

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/binance/${name}`, import.meta.url), "utf8"));

describe("Binance payload parsers on documented fixtures", () => {
  it("exchangeInfo → rules from MARKET_LOT_SIZE, LOT_SIZE when its step is 0", () => {
    const rules = parseExchangeInfo(fixture("exchangeInfo.json"));
    expect(rules.get("BTCUSDT")).toEqual({
      symbol: "BTCUSDT",
      stepSize: "0.001",
      minQty: "0.001",
      maxQty: "120",
      tickSize: "0.10",
      minNotional: "100",
      status: "TRADING",
    });
    expect(rules.get("ETHUSDT")?.maxQty).toBe("2000");
    expect(rules.get("OLDUSDT")).toMatchObject({
      stepSize: "0.1",
      minQty: "0.1",
      maxQty: "1000000",
      status: "SETTLING",
    });
  });

  it("positionRisk v2 → signed amounts as strings", () => {
    const p = parsePositions(fixture("positionRisk-v2.json"));
    expect(p).toEqual([
      {
        symbol: "BTCUSDT",
        positionAmt: "0.000",
        entryPrice: "0.00000",
        markPrice: "6679.50671178",
        unrealizedPnl: "0.00000000",
        leverage: "10",
        positionSide: "BOTH",
      },
      {
        symbol: "ETHUSDT",
        positionAmt: "-1.250",
        entryPrice: "3040.12000",
        markPrice: "3001.50000000",
        unrealizedPnl: "48.27500000",
        leverage: "20",
        positionSide: "BOTH",
      },
    ]);
  });

  it("new order (RESULT) → filled outcome; numeric orderId becomes a string", () => {
    const o = parseOrder(fixture("newOrder-result.json"));
    expect(o).toMatchObject({ orderId: "4090124517", status: "FILLED", reduceOnly: true, side: "SELL" });
    expect(placedOutcome(o)).toEqual({
      kind: "filled",
      orderId: "4090124517",
      clientOrderId: "qp3-c-ba3cbf84bf17f3a2",
      status: "FILLED",
      executedQty: "0.010",
      avgPrice: "60120.00000",
    });
  });

  it("query order → accepted while NEW; terminal without fill → rejected; terminal with a partial fill → filled", () => {
    const o = parseOrder(fixture("queryOrder.json"));
    expect(o).toMatchObject({ orderId: "1917641", status: "NEW", positionSide: "SHORT", stopPrice: "9300" });
    expect(placedOutcome(o).kind).toBe("accepted");
    expect(placedOutcome({ ...o, status: "EXPIRED" })).toEqual({
      kind: "rejected",
      code: 0,
      msg: "order expired",
    });
    expect(placedOutcome({ ...o, status: "EXPIRED", executedQty: "0.10" }).kind).toBe("filled");
  });

  it("algo order → OrderInfo with the algo id and trigger price", () => {
    expect(parseAlgoOrder(fixture("newAlgoOrder.json"))).toMatchObject({
      orderId: "2146760",
      clientOrderId: "qp3-s-0b3b7f0e6c1d2a99",
      type: "STOP_MARKET",
      status: "NEW",
      stopPrice: "41000.00",
      closePosition: true,
    });
  });

  it("off-shape payloads throw MalformedResponseError", () => {
    expect(() => parsePositions({})).toThrow(MalformedResponseError);
    expect(() => parseOrder({ orderId: 1 })).toThrow(MalformedResponseError);
    expect(() => parseExchangeInfo({ symbols: "x" })).toThrow(MalformedResponseError);
  });
});
