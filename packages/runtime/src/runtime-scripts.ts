import type { Redis, Result } from "ioredis";
import { luaScriptTable } from "./lua-scripts.js";

declare module "ioredis" {
  interface RedisCommander<Context> {
    /** claimHeartbeat-1.lua; use `claimConsumerName()` instead of calling this directly. */
    quantumClaimHeartbeat(heartbeatKey: string, instanceId: string, ttlMs: string): Result<unknown, Context>;
    /** compareAndDelete-1.lua; use `compareAndDelete()` instead of calling this directly. */
    quantumCompareAndDelete(key: string, value: string): Result<unknown, Context>;
  }
}

/** The scripts of this package (files in its `lua/` dir; this module sits in src/ so `../lua/` resolves). */
export const RUNTIME_SCRIPTS = luaScriptTable(new URL("../lua/", import.meta.url), {
  claimHeartbeat: { numberOfKeys: 1 },
  compareAndDelete: { numberOfKeys: 1 },
});

/** DEL `key` only while it still holds `value`. Resolves true when deleted. Needs RUNTIME_SCRIPTS loaded. */
export async function compareAndDelete(redis: Redis, key: string, value: string): Promise<boolean> {
  const reply = await redis.quantumCompareAndDelete(key, value);
  if (reply === 1) return true;
  if (reply === 0) return false;
  throw new Error(`compareAndDelete-1.lua: unexpected reply ${JSON.stringify(reply)}`);
}
