import { groups, keys, streams } from "@quantum/contracts";
import { seedPaperPosition } from "@quantum/exchange";
import { eventually, metricValue, scrapeMetrics, startTestRedis, type TestRedis } from "@quantum/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Brain,
  makePlan,
  pendingCount,
  permitRaw,
  publishPlan,
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

async function brainOn(db: number, env: Record<string, string> = {}): Promise<Brain> {
  const b = await startBrain(redis, db, env);
  running.push(b);
  return b;
}

describe("allow permits (real process, paper venue)", () => {
  it("allows FULL / 75 / 50 / UPDATE_SL with safe_qty floored to the step (0.123 BTC, step 0.001)", async () => {
    const db = 1;
    const client = redis.client(db);
    await seedPaperPosition(client, "BTCUSDT", "0.123", "50000");
    await brainOn(db);
    const cases = [
      ["FULL_CLOSE_PROPOSED", "0.123"],
      ["PARTIAL_75", "0.092"],
      ["PARTIAL_50", "0.061"],
      ["UPDATE_SL", "0.123"],
    ] as const;
    for (const [action, expected] of cases) {
      const plan = makePlan("BTCUSDT", {
        action,
        ...(action === "UPDATE_SL" ? { newSlProposed: 41000, reduceOnly: false } : {}),
      });
      await publishPlan(client, plan);
      const raw = JSON.parse(await permitRaw(client, plan.planId)) as Record<string, unknown>;
      expect(raw).toMatchObject({
        allow: true,
        symbol: "BTCUSDT",
        safe_qty: expected,
        safe_close_qty: expected,
        exchange_position_amt: "0.123",
        ledger_amt: "0.123",
        reason: "sanity_checks_passed",
      });
      expect(typeof raw.created_at).toBe("number");
      const ttl = await client.ttl(keys.p33Permit(plan.planId));
      expect(ttl).toBeGreaterThan(50);
      expect(ttl).toBeLessThanOrEqual(60);
    }
  });

  it("allows a short position with the absolute quantity and keeps the signed amount", async () => {
    const db = 2;
    const client = redis.client(db);
    await seedPaperPosition(client, "ETHUSDT", "-1.5", "3000");
    await brainOn(db, { P33_ALLOWLIST: "BTCUSDT,ETHUSDT" });
    const plan = makePlan("ETHUSDT", { action: "PARTIAL_75" });
    await publishPlan(client, plan);
    const permit = await readPermit(client, plan.planId);
    expect(permit).toMatchObject({
      allow: true,
      safeQty: "1.125",
      exchangePositionAmt: "-1.5",
      ledgerAmt: "-1.5",
    });
  });

  it("allows a ledger difference within tolerance, ACKs non-EXECUTE plans without a permit, never rewrites a permit", async () => {
    const db = 3;
    const client = redis.client(db);
    await seedPaperPosition(client, "BTCUSDT", "0.5", "50000");
    const brain = await brainOn(db);
    // tolerance = max(0.001, 0.5 × 1%) = 0.005
    await client.hset(keys.positionLedger("BTCUSDT"), "last_known_amt", "0.496");
    const ok = makePlan("BTCUSDT");
    await publishPlan(client, ok);
    const first = await permitRaw(client, ok.planId);
    expect(JSON.parse(first)).toMatchObject({ allow: true, safe_qty: "0.500", ledger_amt: "0.496" });

    const skip = makePlan("BTCUSDT", { decision: "SKIP", reasonCodes: ["action_hold"] });
    await publishPlan(client, skip);
    // redelivery: the same plan again after the state changed; the permit must not change
    await client.set(keys.reconcileHold("BTCUSDT"), "operator");
    await publishPlan(client, ok);
    const marker = makePlan("BTCUSDT");
    await publishPlan(client, marker);
    expect(await readPermit(client, marker.planId)).toMatchObject({
      allow: false,
      reason: "reconcile_hold_active",
    });
    expect(await client.get(keys.p33Permit(ok.planId))).toBe(first);
    expect(await client.exists(keys.p33Permit(skip.planId))).toBe(0);
    // the batch is acknowledged right after its permits are written
    await eventually(async () => {
      if ((await pendingCount(client, streams.applyPlan, groups.p33)) !== 0)
        throw new Error("entries pending");
    });

    const text = await scrapeMetrics(brain.port);
    expect(metricValue(text, "p33_permit_allow_total", { symbol: "BTCUSDT" })).toBe(1);
    expect(
      metricValue(text, "p33_permit_deny_total", { reason: "reconcile_hold_active", symbol: "BTCUSDT" }),
    ).toBe(1);
    expect(metricValue(text, "p33_permit_latency_seconds_count")).toBe(2);
    expect(
      metricValue(text, "quantum_stream_messages_total", { stream: streams.applyPlan, outcome: "processed" }),
    ).toBe(4);
  });

  it("/metrics shows the counters and gauges moving", async () => {
    const db = 4;
    const client = redis.client(db);
    await seedPaperPosition(client, "BTCUSDT", "0.2", "50000");
    const brain = await brainOn(db);
    const before = await scrapeMetrics(brain.port);
    expect(metricValue(before, "p33_permit_allow_total", { symbol: "BTCUSDT" })).toBe(0);
    expect(metricValue(before, "p33_exchange_position_amt", { symbol: "BTCUSDT" })).toBe(0.2);
    expect(metricValue(before, "p33_ledger_position_amt", { symbol: "BTCUSDT" })).toBe(0.2);
    expect(metricValue(before, "position_mismatch_seconds", { symbol: "BTCUSDT" })).toBe(0);
    expect(metricValue(before, "p33_snapshot_age_seconds", { symbol: "BTCUSDT" })).toBeLessThan(5);
    expect(
      metricValue(before, "quantum_service_info", { service: "position-state-brain", mode: "paper" }),
    ).toBe(1);

    for (let i = 0; i < 3; i++) await publishPlan(client, makePlan("BTCUSDT"));
    const other = makePlan("SOLUSDT");
    await publishPlan(client, other);
    await readPermit(client, other.planId);
    const after = await scrapeMetrics(brain.port);
    expect(metricValue(after, "p33_permit_allow_total", { symbol: "BTCUSDT" })).toBe(3);
    expect(metricValue(after, "p33_permit_deny_total", { reason: "not_in_allowlist", symbol: "other" })).toBe(
      1,
    );
    expect(metricValue(after, "p33_permit_latency_seconds_count")).toBe(4);
    expect(metricValue(after, "p33_permit_latency_seconds_sum")).toBeLessThan(4);
  });

  it("an allow names its venue, the position side and the basis it was sized from", async () => {
    const db = 5;
    const client = redis.client(db);
    await seedPaperPosition(client, "BTCUSDT", "0.3", "50000");
    await brainOn(db);
    const before = makePlan("BTCUSDT");
    await publishPlan(client, before);
    const fresh = JSON.parse(await permitRaw(client, before.planId)) as Record<string, unknown>;
    expect(fresh).toMatchObject({ venue: "paper", position_side: "BOTH", ledger_result_plan_id: null });

    const lastFill = makePlan("BTCUSDT").planId;
    await client.hset(keys.positionLedger("BTCUSDT"), "last_result_plan_id", lastFill);
    const plan = makePlan("BTCUSDT", { action: "PARTIAL_50" });
    await publishPlan(client, plan);
    const raw = JSON.parse(await permitRaw(client, plan.planId)) as Record<string, unknown>;
    expect(raw).toMatchObject({
      allow: true,
      safe_qty: "0.150",
      venue: "paper",
      position_side: "BOTH",
      ledger_result_plan_id: lastFill,
    });
    const snapshotTs = raw.snapshot_ts as number;
    const createdAt = raw.created_at as number;
    expect(typeof snapshotTs).toBe("number");
    expect(snapshotTs).toBeLessThanOrEqual(createdAt);
    expect(createdAt - snapshotTs).toBeLessThan(5);
    expect(await readPermit(client, plan.planId)).toMatchObject({
      venue: "paper",
      positionSide: "BOTH",
      ledgerResultPlanId: lastFill,
      snapshotTs,
    });
  });
});
