import {
  decodeDeadLetter,
  encodeApplyPlan,
  fieldsToRecord,
  groups,
  keys,
  type P33PermitDeny,
  streams,
} from "@quantum/contracts";
import { seedPaperPosition } from "@quantum/exchange";
import { metricValue, scrapeMetrics, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Brain,
  makePlan,
  pendingCount,
  publishPlan,
  publishRaw,
  readPermit,
  startBrain,
} from "./helpers.js";

let redis: TestRedis;
const running: Brain[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await Promise.all(running.map((b) => b.proc.kill()));
  await redis.stop();
});

/** A fresh DB with a paper position (unless amt is null) and a running service on it. */
async function setup(
  db: number,
  amt: string | null,
  env: Record<string, string> = {},
): Promise<{ client: Redis; brain: Brain }> {
  const client = redis.client(db);
  if (amt !== null) await seedPaperPosition(client, "BTCUSDT", amt, "50000");
  const brain = await startBrain(redis, db, env);
  running.push(brain);
  return { client, brain };
}

async function denyOf(client: Redis, planId: string): Promise<P33PermitDeny> {
  const permit = await readPermit(client, planId);
  if (permit.allow) throw new Error(`expected a deny, got ${JSON.stringify(permit)}`);
  return permit;
}

describe("deny permits (real process, one per reason)", () => {
  it("not_in_allowlist: denied at once, without waiting for any snapshot", async () => {
    const { client } = await setup(1, "0.1");
    const plan = makePlan("DOGEUSDT");
    await publishPlan(client, plan);
    const permit = await denyOf(client, plan.planId);
    expect(permit).toMatchObject({ symbol: "DOGEUSDT", reason: "not_in_allowlist" });
  });

  it("invalid_plan: malformed EXECUTE entry is dead-lettered, ACKed and denied at once; unknown action denied", async () => {
    const { client, brain } = await setup(2, "0.1");
    const badPlan = makePlan("BTCUSDT");
    const badId = await publishRaw(client, { ...encodeApplyPlan(badPlan), kill_score: "not-a-number" });
    const permit = await denyOf(client, badPlan.planId);
    expect(permit.reason).toBe("invalid_plan");
    expect(String(permit.context.error)).toContain("kill_score");

    const unknown = makePlan("BTCUSDT", { action: "DOUBLE_DOWN" });
    await publishPlan(client, unknown);
    expect((await denyOf(client, unknown.planId)).reason).toBe("invalid_plan");

    // malformed with a SKIP decision: dead-lettered, no permit; garbage without plan_id: dead-lettered only
    const skipBad = makePlan("BTCUSDT", { decision: "SKIP" });
    await publishRaw(client, { ...encodeApplyPlan(skipBad), steps: "{not json" });
    await publishRaw(client, { hello: "world" });
    const marker = makePlan("DOGEUSDT");
    await publishPlan(client, marker);
    await readPermit(client, marker.planId);
    expect(await client.exists(keys.p33Permit(skipBad.planId))).toBe(0);

    const dead = (await client.xrange(streams.deadLetter, "-", "+")).map(([, f]) =>
      decodeDeadLetter(fieldsToRecord(f)),
    );
    expect(dead.every((d) => d.ok)).toBe(true);
    const entries = dead.flatMap((d) => (d.ok ? [d.value] : []));
    expect(entries).toHaveLength(3);
    expect(entries[0]).toMatchObject({
      stream: streams.applyPlan,
      id: badId,
      service: "position-state-brain",
    });
    expect(entries[0]?.raw.kill_score).toBe("not-a-number");
    expect(await pendingCount(client, streams.applyPlan, groups.p33)).toBe(0);
    const text = await scrapeMetrics(brain.port);
    expect(metricValue(text, "quantum_deadletter_total", { stream: streams.applyPlan })).toBe(3);
    expect(metricValue(text, "p33_permit_deny_total", { reason: "invalid_plan" })).toBe(2);
  });

  it("no_position: flat on the exchange (symbol absent from the venue's answer)", async () => {
    const { client } = await setup(3, null);
    const plan = makePlan("BTCUSDT");
    await publishPlan(client, plan);
    const permit = await denyOf(client, plan.planId);
    expect(permit).toMatchObject({ reason: "no_position", context: { exchange_amt: "0" } });
    expect(await client.hget(keys.positionSnapshot("BTCUSDT"), "side")).toBe("NONE");
  });

  it("stale_exchange_state {age_seconds}", async () => {
    const { client } = await setup(4, "0.1", { P33_POLL_SEC: "3600" });
    await client.hset(keys.positionSnapshot("BTCUSDT"), "ts_epoch", String(Date.now() / 1000 - 100));
    const plan = makePlan("BTCUSDT");
    await publishPlan(client, plan);
    const permit = await denyOf(client, plan.planId);
    expect(permit.reason).toBe("stale_exchange_state");
    expect(Object.keys(permit.context)).toEqual(["age_seconds"]);
    expect(permit.context.age_seconds).toBeGreaterThanOrEqual(100);
    expect(permit.context.age_seconds).toBeLessThan(110);
  });

  it("reconcile_required_side_mismatch: ledger short, exchange long", async () => {
    const { client } = await setup(5, "0.1");
    await client.hset(keys.positionLedger("BTCUSDT"), "last_known_amt", "-0.1");
    const plan = makePlan("BTCUSDT");
    await publishPlan(client, plan);
    expect(await denyOf(client, plan.planId)).toMatchObject({
      reason: "reconcile_required_side_mismatch",
      context: { exchange_amt: "0.1", ledger_amt: "-0.1" },
    });
  });

  it("reconcile_required_qty_mismatch {exchange_amt, ledger_amt, diff, tolerance}", async () => {
    const { client } = await setup(6, "0.1");
    await client.hset(keys.positionLedger("BTCUSDT"), "last_known_amt", "0.09");
    const plan = makePlan("BTCUSDT");
    await publishPlan(client, plan);
    const permit = await denyOf(client, plan.planId);
    expect(permit.reason).toBe("reconcile_required_qty_mismatch");
    // tolerance = max(step 0.001, 0.1 × 1%) = 0.001
    expect(permit.context).toEqual({
      exchange_amt: "0.1",
      ledger_amt: "0.09",
      diff: "0.01",
      tolerance: "0.001",
    });
  });

  it("cooldown_in_flight {seconds_since_exec, cooldown_sec}", async () => {
    const { client } = await setup(7, "0.1");
    await client.set(keys.cooldownLastExecTs("BTCUSDT"), String(Date.now() - 2000));
    const plan = makePlan("BTCUSDT");
    await publishPlan(client, plan);
    const permit = await denyOf(client, plan.planId);
    expect(permit.reason).toBe("cooldown_in_flight");
    expect(Object.keys(permit.context).sort()).toEqual(["cooldown_sec", "seconds_since_exec"]);
    expect(permit.context.cooldown_sec).toBe(15);
    expect(permit.context.seconds_since_exec).toBeGreaterThanOrEqual(2);
    expect(permit.context.seconds_since_exec).toBeLessThan(10);
  });

  it("reconcile_hold_active", async () => {
    const { client } = await setup(8, "0.1");
    await client.set(keys.reconcileHold("BTCUSDT"), "manual reconcile by ops");
    const plan = makePlan("BTCUSDT");
    await publishPlan(client, plan);
    expect((await denyOf(client, plan.planId)).reason).toBe("reconcile_hold_active");
  });

  it("checks run in the documented order: qty mismatch before cooldown before hold; stale before all of them", async () => {
    const { client } = await setup(9, "0.1", { P33_POLL_SEC: "3600" });
    await client.hset(keys.positionLedger("BTCUSDT"), "last_known_amt", "0.05");
    await client.set(keys.cooldownLastExecTs("BTCUSDT"), String(Date.now()));
    await client.set(keys.reconcileHold("BTCUSDT"), "1");
    const mismatch = makePlan("BTCUSDT");
    await publishPlan(client, mismatch);
    expect((await denyOf(client, mismatch.planId)).reason).toBe("reconcile_required_qty_mismatch");
    await client.hset(keys.positionLedger("BTCUSDT"), "last_known_amt", "0.1");
    const cooldown = makePlan("BTCUSDT");
    await publishPlan(client, cooldown);
    expect((await denyOf(client, cooldown.planId)).reason).toBe("cooldown_in_flight");
    await client.hset(keys.positionSnapshot("BTCUSDT"), "ts_epoch", "1000");
    const stale = makePlan("BTCUSDT");
    await publishPlan(client, stale);
    expect((await denyOf(client, stale.planId)).reason).toBe("stale_exchange_state");
  });
});
