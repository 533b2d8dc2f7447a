import { type ApplyPlan, decodeP33Permit, encodeApplyPlan, groups, keys, streams } from "@quantum/contracts";
import { seedPaperPosition } from "@quantum/exchange";
import {
  eventually,
  httpGet,
  metricValue,
  scrapeMetrics,
  startTestRedis,
  type TestRedis,
} from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Brain, makePlan, pendingCount, publishPlan, readPermit, startBrain } from "./helpers.js";

let redis: TestRedis;
const running: Brain[] = [];

beforeAll(async () => {
  redis = await startTestRedis({ appendOnly: true });
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

/** XADD many plans in one pipeline. */
async function publishAll(client: Redis, plans: readonly ApplyPlan[]): Promise<void> {
  const pipe = client.pipeline();
  for (const p of plans) {
    const args: string[] = [];
    for (const [k, v] of Object.entries(encodeApplyPlan(p))) args.push(k, v);
    pipe.xadd(streams.applyPlan, "*", ...args);
  }
  await pipe.exec();
}

/** Permit JSON of each plan id (null where none). */
async function permits(client: Redis, planIds: readonly string[]): Promise<Array<string | null>> {
  const out: Array<string | null> = [];
  for (let i = 0; i < planIds.length; i += 500) {
    out.push(...(await client.mget(planIds.slice(i, i + 500).map((id) => keys.p33Permit(id)))));
  }
  return out;
}

async function allPermitted(
  client: Redis,
  planIds: readonly string[],
  timeoutMs = 20_000,
): Promise<string[]> {
  return eventually(
    async () => {
      const got = await permits(client, planIds);
      const missing = got.filter((p) => p === null).length;
      if (missing > 0) throw new Error(`${missing} of ${planIds.length} plans have no permit`);
      return got as string[];
    },
    { timeoutMs, intervalMs: 50 },
  );
}

describe("resilience (real processes)", () => {
  it("SIGKILL with plans pending, restart under the same consumer name: every EXECUTE plan gets exactly one permit", async () => {
    const db = 1;
    const client = redis.client(db);
    await seedPaperPosition(client, "BTCUSDT", "0.3", "50000");
    const env = { P33_CONSUMER_NAME: "p33-kill-test" };
    const first = await brainOn(db, env);
    process.kill(first.proc.pid, "SIGSTOP");
    const plans = Array.from({ length: 300 }, (_, i) =>
      makePlan("BTCUSDT", i % 10 === 0 ? { decision: "SKIP", reasonCodes: ["action_hold"] } : {}),
    );
    await publishAll(client, plans);
    // the stopped consumer's blocked read was served: entries are pending on it, unacknowledged
    await eventually(async () => (await pendingCount(client, streams.applyPlan, groups.p33)) > 0, {
      timeoutMs: 3000,
    });
    await first.proc.kill();

    await brainOn(db, env);
    const execute = plans.filter((p) => p.decision === "EXECUTE").map((p) => p.planId);
    const got = await allPermitted(client, execute);
    expect(got.every((raw) => decodeP33Permit(raw).ok && JSON.parse(raw).allow === true)).toBe(true);
    const skipped = await permits(
      client,
      plans.filter((p) => p.decision === "SKIP").map((p) => p.planId),
    );
    expect(skipped.every((p) => p === null)).toBe(true);
    await eventually(async () => (await pendingCount(client, streams.applyPlan, groups.p33)) === 0);
  });

  it("a dead consumer's pending plans are claimed (XAUTOCLAIM) by another instance", async () => {
    const db = 2;
    const client = redis.client(db);
    await seedPaperPosition(client, "BTCUSDT", "0.3", "50000");
    const dead = await brainOn(db, { P33_CONSUMER_NAME: "p33-dead" });
    process.kill(dead.proc.pid, "SIGSTOP");
    const plans = Array.from({ length: 50 }, () => makePlan("BTCUSDT"));
    await publishAll(client, plans);
    await eventually(async () => (await pendingCount(client, streams.applyPlan, groups.p33)) > 0, {
      timeoutMs: 3000,
    });
    await dead.proc.kill();
    const heir = await brainOn(db, { P33_CONSUMER_NAME: "p33-heir", P33_CLAIM_IDLE_MS: "300" });
    await allPermitted(
      client,
      plans.map((p) => p.planId),
    );
    await eventually(async () => (await pendingCount(client, streams.applyPlan, groups.p33)) === 0);
    expect(
      metricValue(await scrapeMetrics(heir.port), "quantum_stream_messages_total", { outcome: "reclaimed" }),
    ).toBeGreaterThan(0);
  });

  it("three instances in one group: 3,000 plans -> 3,000 permits, each plan evaluated once", async () => {
    const db = 3;
    const client = redis.client(db);
    await seedPaperPosition(client, "BTCUSDT", "0.5", "50000");
    await seedPaperPosition(client, "ETHUSDT", "2", "3000");
    await client.set(keys.reconcileHold("ETHUSDT"), "1");
    const env = { P33_ALLOWLIST: "BTCUSDT,ETHUSDT,SOLUSDT" };
    const brains = await Promise.all(
      ["a", "b", "c"].map((n) => brainOn(db, { ...env, P33_CONSUMER_NAME: `p33-scale-${n}` })),
    );
    const symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"] as const;
    const actions = ["FULL_CLOSE_PROPOSED", "PARTIAL_75", "PARTIAL_50"] as const;
    const plans = Array.from({ length: 3000 }, (_, i) =>
      makePlan(symbols[i % 4] as string, { action: actions[i % 3] as string }),
    );
    const expected: Record<string, Record<string, unknown>> = {
      BTCUSDT: { allow: true },
      ETHUSDT: { allow: false, reason: "reconcile_hold_active" },
      SOLUSDT: { allow: false, reason: "no_position" },
      XRPUSDT: { allow: false, reason: "not_in_allowlist" },
    };
    const btcQty: Record<string, string> = {
      FULL_CLOSE_PROPOSED: "0.500",
      PARTIAL_75: "0.375",
      PARTIAL_50: "0.250",
    };
    await publishAll(client, plans);
    const got = await allPermitted(
      client,
      plans.map((p) => p.planId),
      30_000,
    );
    plans.forEach((plan, i) => {
      const permit = JSON.parse(got[i] as string) as Record<string, unknown>;
      expect(permit).toMatchObject({ symbol: plan.symbol, ...expected[plan.symbol] });
      if (plan.symbol === "BTCUSDT") expect(permit.safe_qty).toBe(btcQty[plan.action]);
    });
    await eventually(async () => (await pendingCount(client, streams.applyPlan, groups.p33)) === 0);
    const texts = await Promise.all(brains.map((b) => scrapeMetrics(b.port)));
    const processed = texts.map((t) =>
      metricValue(t, "quantum_stream_messages_total", { stream: streams.applyPlan, outcome: "processed" }),
    );
    const written = texts.map(
      (t) => metricValue(t, "p33_permit_allow_total") + metricValue(t, "p33_permit_deny_total"),
    );
    expect(processed.reduce((a, b) => a + b, 0)).toBe(3000);
    expect(written.reduce((a, b) => a + b, 0)).toBe(3000);
    expect(processed.every((n) => n > 0)).toBe(true);
  });

  it("SIGTERM: stops reading, finishes and ACKs in-flight work, exits 0 within 10 s", async () => {
    const db = 4;
    const client = redis.client(db);
    await seedPaperPosition(client, "BTCUSDT", "0.3", "50000");
    const brain = await brainOn(db);
    const plans = Array.from({ length: 200 }, () => makePlan("BTCUSDT"));
    await publishAll(client, plans);
    const t0 = Date.now();
    const code = await brain.proc.stop(10_000);
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    // whatever it read was finished: every acknowledged plan has its permit; nothing is left half-done
    const got = await permits(
      client,
      plans.map((p) => p.planId),
    );
    const pending = await pendingCount(client, streams.applyPlan, groups.p33);
    expect(pending).toBe(0);
    const info = (await client.call("XINFO", "GROUPS", streams.applyPlan)) as unknown[][];
    const group = info.find((g) => g[1] === groups.p33) as unknown[];
    const delivered = String(group[group.indexOf("last-delivered-id") + 1]);
    const deliveredCount = (await client.xrange(streams.applyPlan, "-", delivered)).length;
    expect(got.filter((p) => p !== null)).toHaveLength(deliveredCount);
  });

  it("Redis outage: /health goes red, the process keeps retrying, plans published after the return get permits", async () => {
    const db = 5;
    const client = redis.client(db);
    await seedPaperPosition(client, "BTCUSDT", "0.3", "50000");
    const brain = await brainOn(db);
    await redis.stopServer();
    await eventually(async () => (await httpGet(brain.port, "/health")).status === 503, { timeoutMs: 5000 });
    await redis.startServer();
    await eventually(async () => (await httpGet(brain.port, "/health")).status === 200, {
      timeoutMs: 10_000,
    });
    const plan = makePlan("BTCUSDT");
    await publishPlan(redis.client(db), plan);
    expect(await readPermit(redis.client(db), plan.planId, 10_000)).toMatchObject({
      allow: true,
      safeQty: "0.300",
    });
    expect(brain.proc.proc.exitCode).toBeNull();
  });
});
