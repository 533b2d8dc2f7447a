import { keys } from "@quantum/contracts";
import { startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ConsumeResult, consumePermits, InvalidPermitArgumentError } from "../src/index.js";
import { GOV_PERMIT, newPlanId, P33_PERMIT, permitsExist, scripted, setPermits } from "./helpers.js";

let server: TestRedis;
let redis: Redis;

beforeAll(async () => {
  server = await startTestRedis();
  redis = scripted(server);
});
afterAll(async () => {
  await server.stop();
});
beforeEach(async () => {
  await redis.flushdb();
});

const TTL = 21600;
const consume = (planId: string, mode: "production" | "paper" = "production"): Promise<ConsumeResult> =>
  consumePermits(redis, { planId, symbol: "BTCUSDT", mode, execRecordTtlSec: TTL, nowMs: 1769928600123 });

describe("consumePermits-6.lua", () => {
  it("returns the symbol's last-fill marks with a successful consume, and only with one", async () => {
    const planId = newPlanId();
    await redis.set(keys.killSwitch, "false");
    await redis.set(keys.cooldownLastExecTs("BTCUSDT"), "1769928600000");
    await redis.hset(keys.positionLedger("BTCUSDT"), "last_result_plan_id", "earlier-plan");
    expect(await consume(planId)).toMatchObject({ outcome: "missing_both" });
    expect(await consume(planId)).not.toHaveProperty("lastFill");
    await setPermits(redis, planId);
    expect(await consume(planId)).toMatchObject({
      outcome: "ok",
      lastFill: { cooldownLastExecTs: "1769928600000", ledgerResultPlanId: "earlier-plan" },
    });
  });

  it("consumes both permits and claims the execution when everything is in order", async () => {
    const planId = newPlanId();
    await redis.set(keys.killSwitch, "false");
    await setPermits(redis, planId);
    const res = await consume(planId);
    expect(res).toEqual({
      outcome: "ok",
      governorRaw: GOV_PERMIT,
      p33Raw: P33_PERMIT,
      lastFill: { cooldownLastExecTs: null, ledgerResultPlanId: null },
    });
    expect(await permitsExist(redis, planId)).toEqual({ governor: false, p33: false });
    const rec = await redis.hgetall(keys.execRecord(planId));
    expect(rec).toEqual({
      state: "CLAIMED",
      plan_id: planId,
      symbol: "BTCUSDT",
      created_at: "1769928600.123",
      updated_at: "1769928600.123",
    });
    const ttl = await redis.ttl(keys.execRecord(planId));
    expect(ttl).toBeGreaterThan(TTL - 5);
    expect(ttl).toBeLessThanOrEqual(TTL);
  });

  it("a missing kill switch halts in production and is armed in paper", async () => {
    const planId = newPlanId();
    await setPermits(redis, planId);
    expect(await consume(planId, "production")).toEqual({ outcome: "kill_switch_active" });
    expect(await permitsExist(redis, planId)).toEqual({ governor: true, p33: true });
    expect((await consume(planId, "paper")).outcome).toBe("ok");
  });

  it("kill switch is checked before the permits and writes nothing", async () => {
    const planId = newPlanId();
    await redis.set(keys.killSwitch, "true");
    expect(await consume(planId)).toEqual({ outcome: "kill_switch_active" });
    await setPermits(redis, planId);
    expect(await consume(planId)).toEqual({ outcome: "kill_switch_active" });
    expect(await permitsExist(redis, planId)).toEqual({ governor: true, p33: true });
    expect(await redis.exists(keys.execRecord(planId))).toBe(0);
  });

  it("trading state HALTED (any case) or an unknown value halts; ACTIVE and REDUCE_ONLY pass", async () => {
    await redis.set(keys.killSwitch, "off");
    for (const [state, halted] of [
      ["HALTED", true],
      ["halted", true],
      ["PAUSED", true],
      ["ACTIVE", false],
      ["reduce_only", false],
    ] as const) {
      const planId = newPlanId();
      await redis.set(keys.tradingState, state);
      await setPermits(redis, planId);
      const res = await consume(planId);
      expect(res.outcome, state).toBe(halted ? "trading_state_halted" : "ok");
      expect(await permitsExist(redis, planId), state).toEqual({ governor: halted, p33: halted });
    }
  });

  it("kill switch wins over trading state", async () => {
    await redis.set(keys.killSwitch, "on");
    await redis.set(keys.tradingState, "HALTED");
    expect((await consume(newPlanId())).outcome).toBe("kill_switch_active");
  });

  it("reports which permit is missing with both TTLs and never consumes one alone", async () => {
    await redis.set(keys.killSwitch, "0");
    const both = newPlanId();
    expect(await consume(both)).toEqual({ outcome: "missing_both", governorTtlMs: -2, p33TtlMs: -2 });

    const onlyP33 = newPlanId();
    await setPermits(redis, onlyP33, { p33: true });
    const r1 = await consume(onlyP33);
    expect(r1.outcome).toBe("missing_governor");
    if (r1.outcome !== "missing_governor") throw new Error("narrowing");
    expect(r1.governorTtlMs).toBe(-2);
    expect(r1.p33TtlMs).toBeGreaterThan(55_000);
    expect(await permitsExist(redis, onlyP33)).toEqual({ governor: false, p33: true });

    const onlyGov = newPlanId();
    await setPermits(redis, onlyGov, { governor: true });
    const r2 = await consume(onlyGov);
    expect(r2.outcome).toBe("missing_p33");
    if (r2.outcome !== "missing_p33") throw new Error("narrowing");
    expect(r2.governorTtlMs).toBeGreaterThan(55_000);
    expect(r2.p33TtlMs).toBe(-2);
    expect(await permitsExist(redis, onlyGov)).toEqual({ governor: true, p33: false });

    for (const id of [both, onlyP33, onlyGov]) expect(await redis.exists(keys.execRecord(id))).toBe(0);
  });

  it("a permit without expiry reports PTTL -1", async () => {
    await redis.set(keys.killSwitch, "no");
    const planId = newPlanId();
    await redis.set(keys.governorPermit(planId), GOV_PERMIT);
    expect(await consume(planId)).toEqual({ outcome: "missing_p33", governorTtlMs: -1, p33TtlMs: -2 });
  });

  it("already_executed when the execution record exists, permits untouched", async () => {
    await redis.set(keys.killSwitch, "false");
    const planId = newPlanId();
    await redis.hset(keys.execRecord(planId), { state: "FILLED" });
    await setPermits(redis, planId);
    expect(await consume(planId)).toEqual({ outcome: "already_executed" });
    expect(await permitsExist(redis, planId)).toEqual({ governor: true, p33: true });
    expect(await redis.hget(keys.execRecord(planId), "state")).toBe("FILLED");
  });

  it("missing permits are reported before an existing execution record (the documented order)", async () => {
    await redis.set(keys.killSwitch, "false");
    const planId = newPlanId();
    await redis.hset(keys.execRecord(planId), { state: "CLAIMED" });
    expect((await consume(planId)).outcome).toBe("missing_both");
  });

  it("a second consume of the same plan gets missing_both, a re-granted plan already_executed", async () => {
    await redis.set(keys.killSwitch, "false");
    const planId = newPlanId();
    await setPermits(redis, planId);
    expect((await consume(planId)).outcome).toBe("ok");
    expect((await consume(planId)).outcome).toBe("missing_both");
    await setPermits(redis, planId);
    expect((await consume(planId)).outcome).toBe("already_executed");
  });

  it("100 concurrent consumers of one plan: exactly one wins", async () => {
    await redis.set(keys.killSwitch, "false");
    const planId = newPlanId();
    await setPermits(redis, planId);
    const clients = Array.from({ length: 10 }, () => scripted(server));
    await Promise.all(clients.map((c) => c.ping()));
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        consumePermits(clients[i % clients.length] as Redis, {
          planId,
          symbol: "BTCUSDT",
          mode: "production",
          execRecordTtlSec: TTL,
        }),
      ),
    );
    const outcomes = results.map((r) => r.outcome);
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(1);
    expect(outcomes.every((o) => o === "ok" || o === "already_executed" || o.startsWith("missing_"))).toBe(
      true,
    );
    expect(await redis.hget(keys.execRecord(planId), "state")).toBe("CLAIMED");
    for (const c of clients) c.disconnect();
  });

  it("100 concurrent consumers pipelined on one client, re-granted permits: exactly one wins", async () => {
    await redis.set(keys.killSwitch, "false");
    const planId = newPlanId();
    await setPermits(redis, planId);
    const results = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        if (i === 50) await setPermits(redis, planId); // a late re-grant must not buy a second execution
        return consume(planId);
      }),
    );
    expect(results.filter((r) => r.outcome === "ok")).toHaveLength(1);
  });

  it("rejects bad arguments before touching Redis", async () => {
    const base = { planId: newPlanId(), symbol: "BTCUSDT", mode: "paper" as const, execRecordTtlSec: 60 };
    await expect(consumePermits(redis, { ...base, planId: "" })).rejects.toBeInstanceOf(
      InvalidPermitArgumentError,
    );
    await expect(consumePermits(redis, { ...base, execRecordTtlSec: 0 })).rejects.toThrow(/execRecordTtlSec/);
    await expect(consumePermits(redis, { ...base, execRecordTtlSec: 1.5 })).rejects.toThrow(
      /execRecordTtlSec/,
    );
  });
});
