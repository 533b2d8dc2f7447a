import { keys } from "@quantum/contracts";
import { startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { claimExecution, InvalidPermitArgumentError, transitionExec } from "../src/index.js";
import { newPlanId, scripted } from "./helpers.js";

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
  await redis.set(keys.killSwitch, "false");
});

async function claimed(): Promise<string> {
  const planId = newPlanId();
  const res = await claimExecution(redis, {
    planId,
    symbol: "BTCUSDT",
    mode: "testnet",
    execRecordTtlSec: 3600,
    nowMs: 1769928600000,
  });
  expect(res).toEqual({ outcome: "ok" });
  return planId;
}

describe("claimExecution-4.lua", () => {
  it("creates a CLAIMED record with TTL, then already_executed", async () => {
    const planId = await claimed();
    expect(await redis.hgetall(keys.execRecord(planId))).toEqual({
      state: "CLAIMED",
      plan_id: planId,
      symbol: "BTCUSDT",
      created_at: "1769928600.000",
      updated_at: "1769928600.000",
    });
    expect(await redis.ttl(keys.execRecord(planId))).toBeGreaterThan(3590);
    const again = await claimExecution(redis, {
      planId,
      symbol: "BTCUSDT",
      mode: "testnet",
      execRecordTtlSec: 3600,
    });
    expect(again).toEqual({ outcome: "already_executed" });
  });

  it("50 concurrent claims of one plan: exactly one wins", async () => {
    const planId = newPlanId();
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        claimExecution(redis, { planId, symbol: "BTCUSDT", mode: "testnet", execRecordTtlSec: 60 }),
      ),
    );
    expect(results.filter((r) => r.outcome === "ok")).toHaveLength(1);
    expect(results.filter((r) => r.outcome === "already_executed")).toHaveLength(49);
  });
});

describe("transitionExec-1.lua", () => {
  it("moves the state when it matches, writes fields and updated_at, keeps the TTL", async () => {
    const planId = await claimed();
    const res = await transitionExec(redis, {
      planId,
      expected: "CLAIMED",
      next: "SUBMITTING",
      fields: { client_order_id: "qp3-abc", mode: "paper" },
      nowMs: 1769928601500,
    });
    expect(res).toEqual({ outcome: "ok", previousState: "CLAIMED" });
    const rec = await redis.hgetall(keys.execRecord(planId));
    expect(rec).toMatchObject({
      state: "SUBMITTING",
      client_order_id: "qp3-abc",
      mode: "paper",
      created_at: "1769928600.000",
      updated_at: "1769928601.500",
    });
    expect(await redis.ttl(keys.execRecord(planId))).toBeGreaterThan(3590);
  });

  it("state_mismatch returns the current state and writes nothing", async () => {
    const planId = await claimed();
    const res = await transitionExec(redis, {
      planId,
      expected: "SUBMITTING",
      next: "FILLED",
      fields: { order_id: "1" },
    });
    expect(res).toEqual({ outcome: "state_mismatch", currentState: "CLAIMED" });
    expect(await redis.hget(keys.execRecord(planId), "order_id")).toBeNull();
    expect(await redis.hget(keys.execRecord(planId), "updated_at")).toBe("1769928600.000");
  });

  it("accepts any of several expected states", async () => {
    const planId = await claimed();
    await transitionExec(redis, { planId, expected: "CLAIMED", next: "UNKNOWN" });
    const res = await transitionExec(redis, { planId, expected: ["SUBMITTING", "UNKNOWN"], next: "FILLED" });
    expect(res).toEqual({ outcome: "ok", previousState: "UNKNOWN" });
    expect(await redis.hget(keys.execRecord(planId), "state")).toBe("FILLED");
  });

  it("does not match a state that is only a prefix or part of the list text", async () => {
    const planId = await claimed();
    await redis.hset(keys.execRecord(planId), "state", "CLAIM");
    const res = await transitionExec(redis, { planId, expected: ["CLAIMED", "SUBMITTING"], next: "FILLED" });
    expect(res).toEqual({ outcome: "state_mismatch", currentState: "CLAIM" });
  });

  it("missing when there is no record; state_mismatch with null when the record has no state", async () => {
    const planId = newPlanId();
    expect(await transitionExec(redis, { planId, expected: "CLAIMED", next: "SUBMITTING" })).toEqual({
      outcome: "missing",
    });
    expect(await redis.exists(keys.execRecord(planId))).toBe(0);
    await redis.hset(keys.execRecord(planId), "plan_id", planId);
    expect(await transitionExec(redis, { planId, expected: "CLAIMED", next: "SUBMITTING" })).toEqual({
      outcome: "state_mismatch",
      currentState: null,
    });
  });

  it("20 concurrent CLAIMED -> SUBMITTING: exactly one wins", async () => {
    const planId = await claimed();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        transitionExec(redis, {
          planId,
          expected: "CLAIMED",
          next: "SUBMITTING",
          fields: { winner: String(i) },
        }),
      ),
    );
    const winners = results.flatMap((r, i) => (r.outcome === "ok" ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(await redis.hget(keys.execRecord(planId), "winner")).toBe(String(winners[0]));
    expect(results.filter((r) => r.outcome === "state_mismatch")).toHaveLength(19);
  });

  it("refuses reserved fields and an empty expected list", async () => {
    const planId = await claimed();
    await expect(
      transitionExec(redis, { planId, expected: "CLAIMED", next: "FILLED", fields: { state: "DONE" } }),
    ).rejects.toBeInstanceOf(InvalidPermitArgumentError);
    await expect(transitionExec(redis, { planId, expected: [], next: "FILLED" })).rejects.toThrow(/expected/);
    expect(await redis.hget(keys.execRecord(planId), "state")).toBe("CLAIMED");
  });
});
