/**
 * `@quantum/exchange/binance`: the Binance USDⓈ-M adapter itself. Services get it through `createExchange`,
 * which loads this module only for the testnet and production venues.
 */
export { BinanceUsdmExchange, type BinanceUsdmExchangeOptions } from "./binance-usdm.js";
