/**
 * `@quantum/exchange/binance`: the Binance USDⓈ-M adapter itself. Services get it through `createExchange`,
 * which loads this module only for the testnet and production venues.
 */
export { BinanceUsdmExchange } from "./binance-usdm.js";
export type { BinanceUsdmExchangeOptions } from "./binance-usdm-options.js";
