import { performance } from "node:perf_hooks";
import { keys, keyspaceChannel } from "@quantum/contracts";
import { eventually, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PermitWaiter, type PermitWaitParams, waitAndConsumePermits } from "../src/index.js";
import { GOV_PERMIT, newPlanId, P33_PERMIT, permitsExist, scripted, setPermits } from "./helpers.js";

let server: TestRedis;
let redis: Redis;
let writer: Redis;
let waiter: PermitWaiter;

beforeAll(async () => {
  server = await startTestRedis();
  redis = scripted(server);
  writer = scripted(server);
  await writer.set(keys.killSwitch, "false");
  waiter = new PermitWaiter(redis);
});
afterAll(async () => {
  await waiter.close();
  await server.stop();
});

const params = (planId: string, over: Partial<PermitWaitParams> = {}): PermitWaitParams => ({
  planId,
  symbol: "BTCUSDT",
  maxWaitMs: 10_000,
  stepMs: 5_000, // long: only notifications can explain a fast result
  mode: "production",
  execRecordTtlSec: 600,
  ...over,
});

async function subscribed(planId: string): Promise<void> {
  const ch = keyspaceChannel(0, keys.p33Permit(planId));
  await eventually(async () => {
    const reply = (await writer.pubsub("NUMSUB", ch)) as [string, number];
    return reply[1] === 1;
  });
}

/** Connections of the server currently subscribed to at least one channel. */
async function subscriberConnections(): Promise<number> {
  const list = (await writer.client("LIST")) as string;
  return list.split("\n").filter((l) => / sub=[1-9]/.test(l)).length;
}

function timed<T>(p: Promise<T>): Promise<{ value: T; at: number }> {
  return p.then((value) => ({ value, at: performance.now() }));
}

describe("PermitWaiter with keyspace notifications", () => {
  it("detects notifications and owns one subscriber connection", async () => {
    expect(await waiter.notificationsEnabled()).toBe(true);
    expect(waiter.subscriberConnected).toBe(true);
  });

  it("consumes within 50 ms after the second permit is SET", async () => {
    for (let round = 0; round < 3; round++) {
      const planId = newPlanId();
      await writer.set(keys.governorPermit(planId), GOV_PERMIT, "EX", 60);
      const done = timed(waiter.wait(params(planId)));
      await subscribed(planId);
      await writer.set(keys.p33Permit(planId), P33_PERMIT, "EX", 60);
      const setAt = performance.now();
      const { value, at } = await done;
      expect(value.outcome).toBe("ok");
      expect(at - setAt).toBeLessThanOrEqual(50);
      expect(await permitsExist(writer, planId)).toEqual({ governor: false, p33: false });
    }
  });

  it("no lost wakeup: a permit SET at any moment around the start of a wait is seen without polling", async () => {
    const runs = Array.from({ length: 30 }, async (_, k) => {
      const planId = newPlanId();
      await writer.set(keys.governorPermit(planId), GOV_PERMIT, "EX", 60);
      const done = waiter.wait(params(planId, { stepMs: 10_000, maxWaitMs: 20_000 }));
      for (let i = 0; i < k; i++) await new Promise((r) => setImmediate(r));
      await writer.set(keys.p33Permit(planId), P33_PERMIT, "EX", 60);
      return done;
    });
    const results = await Promise.all(runs);
    for (const r of results) {
      expect(r.outcome).toBe("ok");
      expect(r.waitMs).toBeLessThan(2000); // stepMs is 10 s
    }
  });

  it("consumes at once when both permits already exist, and reports waitMs", async () => {
    const planId = newPlanId();
    await setPermits(writer, planId);
    const res = await waitAndConsumePermits({ redis, waiter, ...params(planId) });
    expect(res).toMatchObject({ outcome: "ok", governorRaw: GOV_PERMIT, p33Raw: P33_PERMIT, attempts: 1 });
    expect(res.waitMs).toBeLessThan(1000);
  });

  it("times out with the right missing kind", async () => {
    const cases = [
      { which: {}, missing: "missing_both" },
      { which: { governor: true }, missing: "missing_p33" },
      { which: { p33: true }, missing: "missing_governor" },
    ] as const;
    const results = await Promise.all(
      cases.map(async (c) => {
        const planId = newPlanId();
        await setPermits(writer, planId, c.which);
        return { c, res: await waiter.wait(params(planId, { maxWaitMs: 300, stepMs: 50 })) };
      }),
    );
    for (const { c, res } of results) {
      expect(res.outcome).toBe("timeout");
      if (res.outcome !== "timeout") continue;
      expect(res.missing).toBe(c.missing);
      expect(res.waitMs).toBeGreaterThanOrEqual(299);
      expect(res.waitMs).toBeLessThan(2000);
      expect(res.attempts).toBeGreaterThan(1);
    }
  });

  it("a governor block ends the wait at once, well before maxWaitMs", async () => {
    const planId = newPlanId();
    await setPermits(writer, planId, { p33: true });
    const done = timed(waiter.wait(params(planId, { maxWaitMs: 10_000 })));
    await subscribed(planId);
    const block = { reason: "daily_limit", timestamp: 1769928600, symbol: "BTCUSDT" };
    await writer.set(keys.governorBlock(planId), JSON.stringify(block));
    const setAt = performance.now();
    const { value, at } = await done;
    expect(value.outcome).toBe("governor_blocked");
    if (value.outcome !== "governor_blocked") return;
    expect(value.block).toEqual({ raw: JSON.stringify(block), json: block, reason: "daily_limit" });
    expect(at - setAt).toBeLessThan(200);
    expect(await permitsExist(writer, planId)).toEqual({ governor: false, p33: true });
  });

  it("a governor block that is not JSON is returned as raw text", async () => {
    const planId = newPlanId();
    await writer.set(keys.governorBlock(planId), "blocked by risk desk");
    const res = await waiter.wait(params(planId));
    expect(res).toMatchObject({
      outcome: "governor_blocked",
      block: { raw: "blocked by risk desk", json: null, reason: null },
    });
  });

  it("kill switch and an execution record by another consumer end the wait", async () => {
    const planA = newPlanId();
    await setPermits(writer, planA);
    await writer.set(keys.killSwitch, "TRUE");
    try {
      expect((await waiter.wait(params(planA))).outcome).toBe("kill_switch_active");
    } finally {
      await writer.set(keys.killSwitch, "false");
    }
    const planB = newPlanId();
    const done = waiter.wait(params(planB));
    await subscribed(planB);
    await writer.hset(keys.execRecord(planB), { state: "CLAIMED" });
    await writer.set(keys.governorPermit(planB), GOV_PERMIT); // any permit event wakes the wait
    expect((await done).outcome).toBe("already_executed");
  });

  it("AbortSignal cancels a wait; an already aborted signal makes no attempt", async () => {
    const planId = newPlanId();
    const ac = new AbortController();
    const done = waiter.wait(params(planId, { signal: ac.signal }));
    await subscribed(planId);
    ac.abort();
    const res = await done;
    expect(res).toMatchObject({ outcome: "aborted", missing: "missing_both" });
    expect(res.waitMs).toBeLessThan(5000);

    const pre = await waiter.wait(params(newPlanId(), { signal: AbortSignal.abort() }));
    expect(pre).toMatchObject({ outcome: "aborted", missing: null, attempts: 0 });
  });

  it("200 concurrent waits on different plans all resolve correctly on one subscriber", async () => {
    const plans = Array.from({ length: 200 }, (_, i) => ({ i, planId: newPlanId() }));
    const kind = (i: number): "ok" | "blocked" | "timeout" =>
      i < 120 ? "ok" : i < 160 ? "blocked" : "timeout";
    for (const { planId } of plans) await writer.set(keys.governorPermit(planId), GOV_PERMIT, "EX", 60);
    const started = performance.now();
    const waits = plans.map(({ planId }) => waiter.wait(params(planId, { maxWaitMs: 1500, stepMs: 1000 })));
    await eventually(() => waiter.subscribedChannelCount === 600);
    expect(await subscriberConnections()).toBe(1); // multiplexed on one connection
    const pipe = writer.pipeline();
    for (const { i, planId } of plans) {
      if (kind(i) === "ok") pipe.set(keys.p33Permit(planId), P33_PERMIT, "EX", 60);
      if (kind(i) === "blocked") {
        pipe.del(keys.governorPermit(planId));
        pipe.set(keys.governorBlock(planId), JSON.stringify({ reason: "exposure", symbol: "BTCUSDT" }));
      }
    }
    await pipe.exec();
    const results = await Promise.all(waits);
    for (const { i, planId } of plans) {
      const r = results[i];
      if (r === undefined) throw new Error("missing result");
      if (kind(i) === "ok") {
        expect(r.outcome).toBe("ok");
        expect(r.waitMs).toBeLessThan(1400);
        expect(await writer.hget(keys.execRecord(planId), "state")).toBe("CLAIMED");
      } else if (kind(i) === "blocked") {
        expect(r).toMatchObject({ outcome: "governor_blocked", block: { reason: "exposure" } });
        expect(r.waitMs).toBeLessThan(1400);
      } else {
        expect(r).toMatchObject({ outcome: "timeout", missing: "missing_p33" });
      }
    }
    expect(performance.now() - started).toBeLessThan(5000);
    expect(waiter.activeWaits).toBe(0);
    expect(waiter.subscribedChannelCount).toBe(0);
    await eventually(
      async () => ((await writer.pubsub("CHANNELS", "__keyspace@0__:*")) as string[]).length === 0,
    );
    expect(await subscriberConnections()).toBe(0);
  });

  it("keeps working by polling when the subscriber is killed, and resubscribes after it reconnects", async () => {
    const planId = newPlanId();
    await writer.set(keys.governorPermit(planId), GOV_PERMIT, "EX", 60);
    const done = waiter.wait(params(planId, { stepMs: 50 }));
    await subscribed(planId);
    await writer.client("KILL", "TYPE", "pubsub");
    await writer.set(keys.p33Permit(planId), P33_PERMIT, "EX", 60);
    expect((await done).outcome).toBe("ok");

    await eventually(() => waiter.subscriberConnected);
    const next = newPlanId();
    await writer.set(keys.governorPermit(next), GOV_PERMIT, "EX", 60);
    const fast = timed(waiter.wait(params(next)));
    await subscribed(next);
    await writer.set(keys.p33Permit(next), P33_PERMIT, "EX", 60);
    const setAt = performance.now();
    const { value, at } = await fast;
    expect(value.outcome).toBe("ok");
    expect(at - setAt).toBeLessThan(1000); // stepMs is 5 s: a notification woke it
  });
});

describe("PermitWaiter fallback", () => {
  it("a wait in progress falls back to polling when the subscriber is gone", async () => {
    const own = new PermitWaiter(redis);
    const planId = newPlanId();
    await writer.set(keys.governorPermit(planId), GOV_PERMIT, "EX", 60);
    const done = own.wait(params(planId, { stepMs: 50 }));
    await subscribed(planId);
    await own.close();
    expect(own.subscriberConnected).toBe(false);
    await writer.set(keys.p33Permit(planId), P33_PERMIT, "EX", 60);
    const res = await done;
    expect(res.outcome).toBe("ok");
    expect(res.attempts).toBeGreaterThan(1);
    expect(await own.notificationsEnabled()).toBe(false);
    expect(own.subscribedChannelCount).toBe(0);
  });
});

describe("waitAndConsumePermits with the shared waiter", () => {
  it("uses one process-wide waiter per client and closes it when the client ends", async () => {
    const client = scripted(server);
    const planId = newPlanId();
    await setPermits(writer, planId);
    const res = await waitAndConsumePermits({ redis: client, ...params(planId) });
    expect(res.outcome).toBe("ok");
    const shared = PermitWaiter.shared(client);
    expect(PermitWaiter.shared(client)).toBe(shared);
    expect(await shared.notificationsEnabled()).toBe(true);
    await client.quit();
    await eventually(() => shared.closed);
  });

  it("rejects bad parameters up front", async () => {
    await expect(waiter.wait(params(newPlanId(), { stepMs: 0 }))).rejects.toThrow(/stepMs/);
    await expect(waiter.wait(params(newPlanId(), { execRecordTtlSec: 0 }))).rejects.toThrow(
      /execRecordTtlSec/,
    );
    await expect(waiter.wait(params(""))).rejects.toThrow(/planId/);
    expect(waiter.activeWaits).toBe(0);
  });

  it("refuses a waiter of another client", () => {
    expect(() => waitAndConsumePermits({ redis: writer, waiter, ...params(newPlanId()) })).toThrow(/waiter/);
  });
});
