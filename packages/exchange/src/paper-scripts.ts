import { readFileSync } from "node:fs";
import type { Redis, Result } from "ioredis";

/**
 * The paper exchange's Lua scripts (lua/*.lua), defined on a client with defineCommand (EVALSHA with
 * automatic EVAL fallback). Read once; a missing file fails at construction, not at the first order.
 * This module sits directly in src/ so `../lua` resolves from both src/ (tests) and dist/ (build).
 */

declare module "ioredis" {
  interface RedisCommander<Context> {
    quantumPaperPlaceOrder(
      orderKey: string,
      positionKey: string,
      seqKey: string,
      ordersStream: string,
      ...args: string[]
    ): Result<[number, number], Context>;
    quantumPaperCancelOrder(orderKey: string, nowMs: string): Result<[number, string | number], Context>;
  }
}

const SCRIPTS = {
  quantumPaperPlaceOrder: { file: "placePaperOrder-4.lua", numberOfKeys: 4 },
  quantumPaperCancelOrder: { file: "cancelPaperOrder-1.lua", numberOfKeys: 1 },
} as const;

let sources: Record<keyof typeof SCRIPTS, string> | null = null;

function loadSources(): Record<keyof typeof SCRIPTS, string> {
  if (sources === null) {
    const read = (file: string): string => readFileSync(new URL(`../lua/${file}`, import.meta.url), "utf8");
    sources = {
      quantumPaperPlaceOrder: read(SCRIPTS.quantumPaperPlaceOrder.file),
      quantumPaperCancelOrder: read(SCRIPTS.quantumPaperCancelOrder.file),
    };
  }
  return sources;
}

/** Define the paper scripts on this client (idempotent). */
export function definePaperScripts(redis: Redis): void {
  const src = loadSources();
  for (const name of Object.keys(SCRIPTS) as (keyof typeof SCRIPTS)[]) {
    if (typeof (redis as unknown as Record<string, unknown>)[name] === "function") continue;
    redis.defineCommand(name, { numberOfKeys: SCRIPTS[name].numberOfKeys, lua: src[name] });
  }
}
