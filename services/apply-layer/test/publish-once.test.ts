import { randomBytes } from "node:crypto";
import { keys, streams } from "@quantum/contracts";
import { consumePermits } from "@quantum/permits";
import { loadScripts, readLuaScripts } from "@quantum/runtime";
import { startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { publishPlanOnce, publishResultOnce } from "../src/publish-once.js";
import { APPLY_SCRIPTS, SERVICE_SCRIPTS } from "../src/scripts.js";
import { acquireSymbolLock, releaseSymbolLock } from "../src/symbol-lock.js";

let server: TestRedis;
let redis: Redis;

beforeAll(async () => {
  server = await startTestRedis();
  redis = server.client();
  loadScripts(redis, SERVICE_SCRIPTS);
});
afterAll(async () => {
  await server.stop();
});
beforeEach(async () => {
  await redis.flushdb();
});

const newPlanId = (): string => randomBytes(8).toString("hex");

/** Both permits of a plan, so a consume can claim it. */
async function setPermits(r: Redis, planId: string): Promise<void> {
  await r.set(keys.governorPermit(planId), JSON.stringify({ granted: true, symbol: "BTCUSDT" }), "EX", 60);
  await r.set(
    keys.p33Permit(planId),
    JSON.stringify({ allow: true, symbol: "BTCUSDT", safe_qty: 0.01 }),
    "EX",
    60,
  );
}

const plan = (planId: string) => ({ plan_id: planId, symbol: "BTCUSDT", decision: "EXECUTE" });
const result = (planId: string, reason = "none") => ({ plan_id: planId, symbol: "BTCUSDT", reason });

describe("the Apply Layer's script table", () => {
  it("reads every script from the service's lua dir", () => {
    const sources = readLuaScripts(APPLY_SCRIPTS);
    expect(Object.keys(sources)).toEqual([
      "publishPlanOnce",
      "publishResultOnce",
      "acquireLock",
      "recordExternalChange",
    ]);
    for (const text of Object.values(sources)) expect(text).toContain("KEYS[1]");
  });
});

describe("publishPlanOnce-5.lua", () => {
  it("publishes a plan once and registers it as open; a second publish is a duplicate", async () => {
    const planId = newPlanId();
    const first = await publishPlanOnce(redis, {
      planId,
      plan: plan(planId),
      openPlanJson: '{"x":1}',
      dedupeTtlSec: 600,
    });
    expect(first.outcome).toBe("published");
    const again = await publishPlanOnce(redis, { planId, plan: plan(planId), dedupeTtlSec: 600 });
    expect(again).toEqual({ outcome: "duplicate" });
    expect(await redis.xlen(streams.applyPlan)).toBe(1);
    expect(await redis.xlen(streams.applyResult)).toBe(0);
    expect(await redis.hget(keys.applyOpenPlans, planId)).toBe('{"x":1}');
    const ttl = await redis.ttl(keys.planPublished(planId));
    expect(ttl).toBeGreaterThan(590);
  });

  it("publishes plan and result together, never registering an open plan", async () => {
    const planId = newPlanId();
    const r = await publishPlanOnce(redis, {
      planId,
      plan: plan(planId),
      result: result(planId, "action_hold"),
      openPlanJson: '{"x":1}',
      dedupeTtlSec: 60,
    });
    expect(r.outcome === "published" && r.resultEntryId !== null).toBe(true);
    const [[, fields]] = (await redis.xrange(streams.applyResult, "-", "+")) as [[string, string[]]];
    expect(fields).toEqual(["plan_id", planId, "symbol", "BTCUSDT", "reason", "action_hold"]);
    expect(await redis.exists(keys.resultPublished(planId))).toBe(1);
    expect(await redis.hexists(keys.applyOpenPlans, planId)).toBe(0);
  });

  it("publishes only the plan when a result of the plan_id already exists", async () => {
    const planId = newPlanId();
    await redis.set(keys.resultPublished(planId), "1");
    const r = await publishPlanOnce(redis, {
      planId,
      plan: plan(planId),
      result: result(planId),
      dedupeTtlSec: 60,
    });
    expect(r).toMatchObject({ outcome: "published", resultEntryId: null });
    expect(await redis.xlen(streams.applyResult)).toBe(0);
  });

  it("50 concurrent publishes of one plan: exactly one plan entry", async () => {
    const planId = newPlanId();
    const all = await Promise.all(
      Array.from({ length: 50 }, () =>
        publishPlanOnce(redis, { planId, plan: plan(planId), result: result(planId), dedupeTtlSec: 60 }),
      ),
    );
    expect(all.filter((r) => r.outcome === "published")).toHaveLength(1);
    expect(await redis.xlen(streams.applyPlan)).toBe(1);
    expect(await redis.xlen(streams.applyResult)).toBe(1);
  });
});

describe("publishResultOnce-5.lua", () => {
  const base = { symbol: "BTCUSDT", dedupeTtlSec: 600, execRecordTtlSec: 3600, nowMs: 1769928600000 };

  it("owned: publishes once, flags the execution record and closes the open plan", async () => {
    const planId = newPlanId();
    await redis.hset(keys.execRecord(planId), { state: "FILLED", plan_id: planId, symbol: "BTCUSDT" });
    await redis.hset(keys.applyOpenPlans, planId, "{}");
    const first = await publishResultOnce(redis, { ...base, planId, result: result(planId), claim: "owned" });
    expect(first.outcome).toBe("published");
    const again = await publishResultOnce(redis, { ...base, planId, result: result(planId), claim: "owned" });
    expect(again).toEqual({ outcome: "duplicate" });
    expect(await redis.xlen(streams.applyResult)).toBe(1);
    expect(await redis.hget(keys.execRecord(planId), "result_published")).toBe("1");
    expect(await redis.hget(keys.execRecord(planId), "state")).toBe("FILLED");
    expect(await redis.hexists(keys.applyOpenPlans, planId)).toBe(0);
  });

  it("unclaimed: refuses when an execution record exists", async () => {
    const planId = newPlanId();
    await redis.hset(keys.execRecord(planId), { state: "CLAIMED", plan_id: planId, symbol: "BTCUSDT" });
    const r = await publishResultOnce(redis, { ...base, planId, result: result(planId), claim: "unclaimed" });
    expect(r).toEqual({ outcome: "claimed" });
    expect(await redis.xlen(streams.applyResult)).toBe(0);
    expect(await redis.exists(keys.resultPublished(planId))).toBe(0);
  });

  it("unclaimed: creates a DONE record so a later consume cannot execute the plan", async () => {
    const planId = newPlanId();
    await redis.set(keys.killSwitch, "false");
    const r = await publishResultOnce(redis, {
      ...base,
      planId,
      result: result(planId, "permit_timeout_or_missing:missing_both"),
      claim: "unclaimed",
    });
    expect(r.outcome).toBe("published");
    expect(await redis.hgetall(keys.execRecord(planId))).toEqual({
      state: "DONE",
      plan_id: planId,
      symbol: "BTCUSDT",
      created_at: "1769928600.000",
      updated_at: "1769928600.000",
      result_published: "1",
    });
    expect(await redis.ttl(keys.execRecord(planId))).toBeGreaterThan(3590);
    await setPermits(redis, planId);
    const late = await consumePermits(redis, {
      planId,
      symbol: "BTCUSDT",
      mode: "paper",
      execRecordTtlSec: 60,
    });
    expect(late).toEqual({ outcome: "already_executed" });
  });

  it("a late consume racing an unclaimed publish: either the consume or the result wins, never both", async () => {
    for (let i = 0; i < 20; i++) {
      const planId = newPlanId();
      await redis.set(keys.killSwitch, "false");
      await setPermits(redis, planId);
      const [c, p] = await Promise.all([
        consumePermits(redis, { planId, symbol: "BTCUSDT", mode: "paper", execRecordTtlSec: 60 }),
        publishResultOnce(redis, { ...base, planId, result: result(planId), claim: "unclaimed" }),
      ]);
      expect([c.outcome === "ok", p.outcome === "published"].filter(Boolean)).toHaveLength(1);
    }
  });
});

describe("acquireLock-1.lua / compareAndDelete-1.lua", () => {
  it("one holder at a time; refresh by the same token; token-checked release", async () => {
    const a = await acquireSymbolLock(redis, { symbol: "BTCUSDT", token: "a:1:1", ttlMs: 5000 });
    expect(a).toEqual({ outcome: "acquired" });
    const b = await acquireSymbolLock(redis, { symbol: "BTCUSDT", token: "b:1:1", ttlMs: 5000 });
    expect(b.outcome).toBe("busy");
    expect(b.outcome === "busy" && b.pttlMs > 0 && b.pttlMs <= 5000).toBe(true);
    await redis.pexpire(keys.symbolLock("BTCUSDT"), 100);
    expect(await acquireSymbolLock(redis, { symbol: "BTCUSDT", token: "a:1:1", ttlMs: 5000 })).toEqual({
      outcome: "acquired",
    });
    expect(await redis.pttl(keys.symbolLock("BTCUSDT"))).toBeGreaterThan(4000);
    expect(await releaseSymbolLock(redis, { symbol: "BTCUSDT", token: "b:1:1" })).toBe(false);
    expect(await releaseSymbolLock(redis, { symbol: "BTCUSDT", token: "a:1:1" })).toBe(true);
    expect(await redis.exists(keys.symbolLock("BTCUSDT"))).toBe(0);
  });

  it("takes over a leftover of an earlier run of the same instance, not another instance's lock", async () => {
    await redis.set(keys.symbolLock("BTCUSDT"), "host-apply:oldboot:7", "PX", 30_000);
    await redis.set(keys.symbolLock("ETHUSDT"), "other-apply:boot:1", "PX", 30_000);
    const opts = {
      token: "host-apply:newboot:1",
      ttlMs: 5000,
      takeoverPrefix: "host-apply:",
      selfPrefix: "host-apply:newboot:",
    };
    expect(await acquireSymbolLock(redis, { ...opts, symbol: "BTCUSDT" })).toEqual({ outcome: "acquired" });
    expect((await acquireSymbolLock(redis, { ...opts, symbol: "ETHUSDT" })).outcome).toBe("busy");
    await redis.set(keys.symbolLock("SOLUSDT"), "host-apply:newboot:2", "PX", 30_000);
    expect((await acquireSymbolLock(redis, { ...opts, symbol: "SOLUSDT" })).outcome).toBe("busy");
  });

  it("20 concurrent acquirers: exactly one holds the lock", async () => {
    const all = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        acquireSymbolLock(redis, { symbol: "XRPUSDT", token: `t${i}:b:1`, ttlMs: 5000 }),
      ),
    );
    expect(all.filter((r) => r.outcome === "acquired")).toHaveLength(1);
  });
});
