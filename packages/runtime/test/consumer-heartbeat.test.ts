import { keys } from "@quantum/contracts";
import { eventually, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsumerNameInUseError, claimConsumerName, loadScripts, RUNTIME_SCRIPTS } from "../src/index.js";
import { silentLogger } from "./helpers.js";

let redis: TestRedis;

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.stop();
});

/** A client with this package's scripts loaded, as a service loads them at startup. */
function scripted(db: number): Redis {
  const c = redis.client(db);
  loadScripts(c, [RUNTIME_SCRIPTS]);
  return c;
}

const opts = (consumer: string) => ({ service: "hb-test", consumer, logger: silentLogger, ttlMs: 1000 });

describe("consumer-name heartbeat", () => {
  it("refuses on a client whose scripts were not loaded, instead of retrying forever", async () => {
    await expect(claimConsumerName(redis.client(1), opts("unloaded"))).rejects.toThrow(/not loaded/);
  });

  it("a second claimant of a name whose heartbeat keeps being renewed is refused", async () => {
    const r = scripted(1);
    const first = await claimConsumerName(r, opts("shared"));
    const key = keys.consumerHeartbeat("hb-test", "shared");
    try {
      const t0 = Date.now();
      await expect(claimConsumerName(r, opts("shared"))).rejects.toBeInstanceOf(ConsumerNameInUseError);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(await r.get(key)).toBe(first.instanceId);
      // and the holder keeps renewing: its TTL rises again
      const before = await r.pttl(key);
      await eventually(async () => (await r.pttl(key)) > before + 100);
    } finally {
      await first.stop();
    }
    expect(await r.exists(key)).toBe(0);
  });

  it("the heartbeat of a dead instance is waited out (bounded by its TTL) and then taken over", async () => {
    const r = scripted(2);
    const key = keys.consumerHeartbeat("hb-test", "crashed");
    await r.set(key, "old-host:1:dead", "PX", 900);
    const t0 = Date.now();
    const hb = await claimConsumerName(r, opts("crashed"));
    const waited = Date.now() - t0;
    try {
      expect(waited).toBeGreaterThanOrEqual(700);
      expect(waited).toBeLessThan(2000);
      expect(await r.get(key)).toBe(hb.instanceId);
    } finally {
      await hb.stop();
    }
  });

  it("a heartbeat without a TTL is never taken over", async () => {
    const r = scripted(3);
    await r.set(keys.consumerHeartbeat("hb-test", "pinned"), "someone");
    await expect(claimConsumerName(r, opts("pinned"))).rejects.toMatchObject({
      code: "CONSUMER_NAME_IN_USE",
      holder: "someone",
    });
  });

  it("stop deletes the heartbeat only while it is still ours", async () => {
    const r = scripted(4);
    const key = keys.consumerHeartbeat("hb-test", "stolen");
    const hb = await claimConsumerName(r, opts("stolen"));
    await r.set(key, "another-instance", "PX", 5000);
    const lost: string[] = [];
    const hb2 = await claimConsumerName(r, { ...opts("other-name"), onLost: (h) => lost.push(h) });
    await hb.stop();
    expect(await r.get(key)).toBe("another-instance");
    await hb2.stop();
    expect(lost).toEqual([]);
  });

  it("a renewal that finds the name taken reports it lost", async () => {
    const r = scripted(5);
    const key = keys.consumerHeartbeat("hb-test", "taken");
    const lost: string[] = [];
    const hb = await claimConsumerName(r, { ...opts("taken"), onLost: (h) => lost.push(h) });
    try {
      await r.set(key, "intruder", "PX", 5000);
      await eventually(async () => lost.length === 1);
      expect(lost).toEqual(["intruder"]);
    } finally {
      await hb.stop();
    }
  });
});
