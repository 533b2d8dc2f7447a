import { keys } from "@quantum/contracts";
import type { Redis } from "ioredis";

/**
 * True while the Apply Layer's status key says it runs in production. The dev tools (governor, feeder)
 * then do nothing: fake permits or proposals must never reach a live account.
 */
export async function applyLayerInProduction(redis: Redis): Promise<boolean> {
  return (await redis.hget(keys.serviceStatus("apply-layer"), "mode")) === "production";
}
