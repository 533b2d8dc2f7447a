import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { type FakeBinance, startFakeBinance } from "@quantum/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_KEY, API_SECRET } from "./helpers.js";

/** The fake must answer with the documented field sets (fixtures), so the adapter is tested against Binance's shape. */

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/binance/${name}`, import.meta.url), "utf8"));
const keysOf = (v: unknown): string[] => Object.keys(v as object).sort();

let fake: FakeBinance;

async function signed(
  method: string,
  path: string,
  params: Record<string, string>,
): Promise<{ status: number; body: unknown }> {
  const query = new URLSearchParams({
    ...params,
    timestamp: String(Date.now()),
    recvWindow: "5000",
  }).toString();
  const sig = createHmac("sha256", API_SECRET).update(query).digest("hex");
  const res = await fetch(`${fake.baseUrl}${path}?${query}&signature=${sig}`, {
    method,
    headers: { "X-MBX-APIKEY": API_KEY },
  });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  fake = await startFakeBinance({ apiKey: API_KEY, apiSecret: API_SECRET });
  fake.setPosition("BTCUSDT", "0.500", "60000");
});
afterAll(async () => {
  await fake.close();
});

describe("FakeBinance speaks the documented payload shapes", () => {
  it("positionRisk v2 entries have the documented fields", async () => {
    const r = await signed("GET", "/fapi/v2/positionRisk", {});
    const [doc] = fixture("positionRisk-v2.json") as unknown[];
    expect(keysOf((r.body as unknown[])[0])).toEqual(keysOf(doc));
  });

  it("a RESULT market order has the documented New Order fields", async () => {
    const r = await signed("POST", "/fapi/v1/order", {
      symbol: "BTCUSDT",
      side: "SELL",
      type: "MARKET",
      quantity: "0.010",
      reduceOnly: "true",
      newClientOrderId: "shape-1",
      newOrderRespType: "RESULT",
    });
    expect(r.status).toBe(200);
    expect(keysOf(r.body)).toEqual(keysOf(fixture("newOrder-result.json")));
  });

  it("query order and algo order answers carry the documented fields", async () => {
    const q = await signed("GET", "/fapi/v1/order", { symbol: "BTCUSDT", origClientOrderId: "shape-1" });
    const doc = fixture("queryOrder.json") as Record<string, unknown>;
    const trailingOnly = ["activatePrice", "priceRate"];
    expect(keysOf(q.body)).toEqual(keysOf(doc).filter((k) => !trailingOnly.includes(k)));
    const a = await signed("POST", "/fapi/v1/algoOrder", {
      algoType: "CONDITIONAL",
      symbol: "BTCUSDT",
      side: "SELL",
      type: "STOP_MARKET",
      triggerPrice: "41000.00",
      closePosition: "true",
      clientAlgoId: "shape-stop-1",
    });
    expect(keysOf(a.body)).toEqual(keysOf(fixture("newAlgoOrder.json")));
  });

  it("STOP_MARKET on /fapi/v1/order is refused with -4120 like Binance since the algo migration", async () => {
    const r = await signed("POST", "/fapi/v1/order", {
      symbol: "BTCUSDT",
      side: "SELL",
      type: "STOP_MARKET",
      stopPrice: "41000",
      closePosition: "true",
      newClientOrderId: "shape-stop-2",
    });
    const errs = fixture("errors.json") as Record<string, unknown>;
    expect(r).toEqual({ status: 400, body: errs.useAlgoApi });
  });

  it("exchangeInfo symbols carry the documented filter types", async () => {
    const res = await fetch(`${fake.baseUrl}/fapi/v1/exchangeInfo`);
    const body = (await res.json()) as { symbols: { filters: { filterType: string }[] }[] };
    const docBtc = (fixture("exchangeInfo.json") as typeof body).symbols[0]!;
    expect(body.symbols[0]!.filters.map((f) => f.filterType)).toEqual(
      docBtc.filters.map((f) => f.filterType),
    );
  });
});
