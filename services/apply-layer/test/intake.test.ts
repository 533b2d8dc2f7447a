import { performance } from "node:perf_hooks";
import { decodeApplyPlan, keys, streams } from "@quantum/contracts";
import { seedPaperPosition } from "@quantum/exchange";
import {
  eventually,
  metricValue,
  readStream,
  scrapeMetrics,
  startTestRedis,
  type TestRedis,
} from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  allowP33,
  grantGovernor,
  paperFills,
  plansFor,
  proposal,
  type RunningService,
  resultsFor,
  startApply,
  streamProposal,
  writeProposal,
} from "./helpers.js";

// Intake through the real process: proposal hashes handled as they are written (keyspace notifications),
// polling as the fallback, and the bounded plan queue with backpressure.
const running: RunningService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.proc.stop()));
});

async function start(redis: TestRedis, env: Record<string, string>): Promise<RunningService> {
  const s = await startApply(redis, env);
  running.push(s);
  return s;
}

/** Wait for the plan entry of `planId`; resolves with the time it was seen. */
async function planSeenAt(r: Redis, planId: string, timeoutMs: number): Promise<number> {
  await eventually(async () => (await plansFor(r, planId)).length === 1, {
    timeoutMs,
    intervalMs: 5,
    message: `plan ${planId} within ${timeoutMs} ms`,
  });
  return performance.now();
}

describe("a written proposal hash wakes the Apply Layer", () => {
  let redis: TestRedis;
  let r: Redis;
  beforeAll(async () => {
    redis = await startTestRedis();
    r = redis.client();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("with APPLY_POLL_SEC=5 each hash is planned within a second of its HSET", async () => {
    const symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT"];
    await start(redis, {
      APPLY_POLL_SEC: "5",
      APPLY_ALLOWLIST: symbols.join(","),
      APPLY_PERMIT_WAIT_MS: "200",
    });
    await eventually(async () => Number(await r.call("PUBSUB", "NUMPAT")) >= 1);
    // Three writes in under 5 s: at most one of them can meet the poll, the others only a notification.
    for (const symbol of symbols) {
      const t0 = performance.now();
      const planId = await writeProposal(r, proposal(symbol));
      const seen = await planSeenAt(r, planId, 1000);
      expect(seen - t0).toBeLessThan(1000);
    }
  });
});

describe("without keyspace notifications for hashes", () => {
  let redis: TestRedis;
  let r: Redis;
  beforeAll(async () => {
    redis = await startTestRedis({ notifyKeyspaceEvents: "" });
    r = redis.client();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("warns and still plans every hash by polling", async () => {
    const apply = await start(redis, { APPLY_POLL_SEC: "1", APPLY_PERMIT_WAIT_MS: "200" });
    await eventually(() =>
      apply.proc
        .logs()
        .some((l) => l.level === "warn" && String(l.msg).includes("proposal hashes are polled only")),
    );
    expect(Number(await r.call("PUBSUB", "NUMPAT"))).toBe(0);
    const planId = await writeProposal(r, proposal("BTCUSDT"));
    await planSeenAt(r, planId, 5000);
  });
});

describe("bounded plan queue (APPLY_MAX_QUEUED_PLANS)", () => {
  let redis: TestRedis;
  let r: Redis;
  // The paper exchange's symbols: four proposals on the stream, two as hashes, twice the bound of two.
  const streamSymbols = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT"];
  const hashSymbols = ["XRPUSDT", "DOGEUSDT"];
  const all = [...streamSymbols, ...hashSymbols];
  beforeAll(async () => {
    redis = await startTestRedis();
    r = redis.client();
    await r.set(keys.killSwitch, "false");
    for (const s of all) await seedPaperPosition(r, s, "2", "200");
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("holds at most the bound while permits are withheld, then gives every proposal one result", async () => {
    const bound = 2;
    const apply = await start(redis, {
      APPLY_MAX_QUEUED_PLANS: String(bound),
      APPLY_PERMIT_WAIT_MS: "60000",
      APPLY_POLL_SEC: "0.2",
      APPLY_ALLOWLIST: all.join(","),
    });
    const planIds: string[] = [];
    for (const s of streamSymbols) planIds.push(await streamProposal(r, proposal(s)));
    for (const s of hashSymbols) planIds.push(await writeProposal(r, proposal(s)));

    // No governor: plans wait for permits and keep their slots. Intake keeps finding the queue full on both
    // paths; the plans published (each one entered the queue) never exceed the bound.
    await eventually(
      async () => {
        const m = await scrapeMetrics(apply.port);
        return (
          metricValue(m, "apply_plan_queue_depth") === bound &&
          metricValue(m, "apply_plan_queue_full_total", { source: "stream" }) >= 2 &&
          metricValue(m, "apply_plan_queue_full_total", { source: "hash" }) >= 3
        );
      },
      { timeoutMs: 10_000 },
    );
    const m = await scrapeMetrics(apply.port);
    expect(metricValue(m, "apply_plan_queue_capacity")).toBe(bound);
    expect(await readStream(r, streams.applyPlan)).toHaveLength(bound);
    const group = ((await r.xinfo("GROUPS", streams.harvestProposal)) as unknown[][])[0] ?? [];
    const lag = Number(group[group.indexOf("lag") + 1]);
    expect(lag).toBeGreaterThan(0); // stream entries left unread, not taken into memory

    // Permits arrive for every plan as it is published.
    const granted = new Set<string>();
    await eventually(
      async () => {
        for (const [, f] of await readStream(r, streams.applyPlan)) {
          const plan = decodeApplyPlan(f);
          if (!plan.ok || granted.has(plan.value.planId)) continue;
          granted.add(plan.value.planId);
          await grantGovernor(r, plan.value.planId, plan.value.symbol);
          await allowP33(r, plan.value.planId, plan.value.symbol, "1", "2");
        }
        return (await readStream(r, streams.applyResult)).length === all.length;
      },
      { timeoutMs: 20_000, intervalMs: 20 },
    );
    for (const planId of planIds) {
      expect(await plansFor(r, planId)).toHaveLength(1);
      const results = await resultsFor(r, planId);
      expect(results).toHaveLength(1);
      expect(results[0]).toMatchObject({ decision: "EXECUTE", executed: "True" });
      expect(Number(results[0]?.executed_qty)).toBe(1);
      expect(await paperFills(r, `qp3-c-${planId}`)).toHaveLength(1);
    }
    const after = await scrapeMetrics(apply.port);
    expect(metricValue(after, "apply_plan_queue_depth")).toBe(0);
    expect(metricValue(after, "apply_executed_total", { status: "success" })).toBe(all.length);
  });
});
