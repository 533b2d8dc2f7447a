import type { SymbolRules } from "./types.js";

/**
 * Default paper symbol rules: Binance USDⓈ-M MARKET_LOT_SIZE / PRICE_FILTER / MIN_NOTIONAL values of
 * common perpetuals (see test/fixtures/binance/exchangeInfo.json for the shape they come from).
 */
export const DEFAULT_PAPER_RULES: readonly SymbolRules[] = [
  {
    symbol: "BTCUSDT",
    stepSize: "0.001",
    minQty: "0.001",
    maxQty: "120",
    tickSize: "0.10",
    minNotional: "100",
    status: "TRADING",
  },
  {
    symbol: "ETHUSDT",
    stepSize: "0.001",
    minQty: "0.001",
    maxQty: "2000",
    tickSize: "0.01",
    minNotional: "20",
    status: "TRADING",
  },
  {
    symbol: "BNBUSDT",
    stepSize: "0.01",
    minQty: "0.01",
    maxQty: "1000",
    tickSize: "0.010",
    minNotional: "5",
    status: "TRADING",
  },
  {
    symbol: "SOLUSDT",
    stepSize: "1",
    minQty: "1",
    maxQty: "5000",
    tickSize: "0.0100",
    minNotional: "5",
    status: "TRADING",
  },
  {
    symbol: "XRPUSDT",
    stepSize: "0.1",
    minQty: "0.1",
    maxQty: "2000000",
    tickSize: "0.0001",
    minNotional: "5",
    status: "TRADING",
  },
  {
    symbol: "DOGEUSDT",
    stepSize: "1",
    minQty: "1",
    maxQty: "30000000",
    tickSize: "0.00001",
    minNotional: "5",
    status: "TRADING",
  },
];
