import { describe, expect, it } from "vitest";
import { BinanceUsdmExchange } from "../src/binance.js";
import { createExchange } from "../src/index.js";
import { API_KEY, API_SECRET } from "./helpers.js";

describe("createExchange", () => {
  it("gives the Binance adapter its share of the venue's published limits", async () => {
    const ex = await createExchange("testnet", {
      apiKey: API_KEY,
      apiSecret: API_SECRET,
      rateLimitSharePct: 10,
    });
    expect(ex).toBeInstanceOf(BinanceUsdmExchange);
    const { windows } = (ex as BinanceUsdmExchange).throttle.state();
    expect(windows.weight1m).toMatchObject({ limit: 2400, budget: 240, intervalMs: 60_000 });
    expect(windows.orders10s).toMatchObject({ limit: 300, budget: 30, intervalMs: 10_000 });
    expect(windows.orders1m).toMatchObject({ limit: 1200, budget: 120, intervalMs: 60_000 });
    const full = (await createExchange("testnet", {
      apiKey: API_KEY,
      apiSecret: API_SECRET,
    })) as BinanceUsdmExchange;
    expect(full.throttle.state().windows.orders10s.budget).toBe(300);
  });
});
