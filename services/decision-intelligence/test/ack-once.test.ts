import { streams } from "@quantum/contracts";
import { eventually, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, deadLetterIds, pending, startService, status } from "./support.js";

/** Every XACK the server runs (from clients and from scripts), as its argument lists. */
async function watchXacks(redis: TestRedis): Promise<{ calls: string[][]; stop: () => Promise<void> }> {
  const calls: string[][] = [];
  const monitor: Redis = await redis.client(0).monitor();
  monitor.on("monitor", (_time: string, args: string[]) => {
    if (args[0]?.toLowerCase() === "xack") calls.push(args.slice(3));
  });
  return { calls, stop: async () => void (await monitor.disconnect()) };
}

/** XADD all entries in one MULTI, so the consumer reads them as one batch. */
async function addAtOnce(r: Redis, entries: readonly Record<string, string>[]): Promise<string[]> {
  const tx = r.multi();
  for (const e of entries) tx.xadd(streams.applyResult, "*", ...Object.entries(e).flat());
  return ((await tx.exec()) ?? []).map(([err, id]) => {
    if (err !== null) throw err;
    return id as string;
  });
}

const good = (i: number): Record<string, string> => ({
  symbol: "BTCUSDT",
  decision: "SKIP",
  reason: "no_signal",
  timestamp: String(1767225540 + i),
});

let redis: TestRedis;

beforeAll(async () => {
  assertBuilt();
  redis = await startTestRedis(); // its own server: the monitor sees only this test's commands
});
afterAll(async () => {
  await redis.stop();
});

describe("P3.5 acknowledges each batch once", () => {
  it("one XACK for a counted batch; a dead-lettered entry is acknowledged once too", async () => {
    const r = redis.client(0);
    const svc = await startService(redis, 0);
    const xacks = await watchXacks(redis);
    try {
      const batch = await addAtOnce(r, [good(0), good(1), good(2), good(3), good(4)]);
      await eventually(async () => (await status(r)).processed_total === "5" && (await pending(r)) === 0);

      const mixed = await addAtOnce(r, [good(5), { symbol: "NOT A SYMBOL", decision: "SKIP" }, good(6)]);
      await eventually(async () => (await status(r)).processed_total === "7" && (await pending(r)) === 0);
      await eventually(async () => (await deadLetterIds(r)).length === 1);
      await eventually(async () => xacks.calls.length >= 3);
      expect(xacks.calls[0]).toEqual(batch);
      const acked = xacks.calls.slice(1).flat().sort();
      expect(acked).toEqual([...mixed].sort());
      expect(xacks.calls).toHaveLength(3);
    } finally {
      await xacks.stop();
      expect(await svc.proc.stop()).toBe(0);
    }
  });
});
