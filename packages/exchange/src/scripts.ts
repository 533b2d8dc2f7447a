import { luaScriptTable } from "@quantum/runtime";
import type { Result } from "ioredis";

/**
 * The paper venue's Lua scripts (this package's `lua/` dir; this module sits in src/, so `../lua/` resolves
 * from src/ in tests and from dist/ when built). A service that trades on paper loads them at startup with
 * `loadScripts`, on the client it gives the PaperExchange.
 */
export const EXCHANGE_SCRIPTS = luaScriptTable(new URL("../lua/", import.meta.url), {
  placePaperOrder: { numberOfKeys: 4 },
  cancelPaperOrder: { numberOfKeys: 1 },
});

declare module "ioredis" {
  interface RedisCommander<Context> {
    /** placePaperOrder-4.lua; use `PaperExchange.placeOrder()`. */
    quantumPlacePaperOrder(
      orderKey: string,
      positionKey: string,
      seqKey: string,
      ordersStream: string,
      ...args: string[]
    ): Result<[number, number], Context>;
    /** cancelPaperOrder-1.lua; use `PaperExchange.cancelOrder()`. */
    quantumCancelPaperOrder(orderKey: string, nowMs: string): Result<[number, string | number], Context>;
  }
}
