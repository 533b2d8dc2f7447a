import { type DecodeResult, decodeFail, decodeOk } from "@quantum/contracts";
import { createServiceRegistry, createStreamMetrics } from "@quantum/metrics";
import { metricValue } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { createLogger } from "../src/index.js";

export const silentLogger = createLogger({ service: "runtime-test", level: "silent" });

export function streamMetrics(service = "runtime-test") {
  const registry = createServiceRegistry({ service, mode: "test", version: "0.0.0" });
  const metrics = createStreamMetrics(registry, service);
  return {
    metrics,
    value: async (name: string, labels: Record<string, string>) =>
      metricValue(await registry.metrics(), name, { service, ...labels }),
  };
}

/** Ids pending in a group (XPENDING range), oldest first. */
export async function pendingIds(redis: Redis, stream: string, group: string): Promise<string[]> {
  const rows = (await redis.xpending(stream, group, "-", "+", 1000)) as Array<
    [string, string, number, number]
  >;
  return rows.map((r) => r[0]);
}

export async function addEntries(redis: Redis, stream: string, n: number, from = 1): Promise<string[]> {
  const ids: string[] = [];
  for (let i = from; i < from + n; i++) ids.push((await redis.xadd(stream, "*", "n", String(i))) as string);
  return ids;
}

/** Decoder used by the tests: field `n` must be a whole number. */
export function decodeN(fields: Record<string, string>): DecodeResult<number> {
  const n = fields.n;
  if (n === undefined || !/^\d+$/.test(n)) return decodeFail("n", "must be a whole number");
  return decodeOk(Number(n));
}
