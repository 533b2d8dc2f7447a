import { groups, keys, streams } from "@quantum/contracts";
import { seedPaperPosition } from "@quantum/exchange";
import {
  eventually,
  freePort,
  metricValue,
  type ServiceProcess,
  scrapeMetrics,
  startServiceProcess,
  startTestRedis,
  type TestRedis,
  waitHealthy,
} from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  P33_ENTRY,
  plansFor,
  proposal,
  type RunningService,
  resultsFor,
  startApply,
  startGovernor,
  streamProposal,
  waitResult,
  writeProposal,
} from "./helpers.js";

// End to end with real processes: Apply Layer (paper), the real P3.3 Position State Brain, the dev governor.
let redis: TestRedis;
let r: Redis;
let apply: RunningService;
let governor: ServiceProcess;
let p33: ServiceProcess;

const SYMBOLS = "BTCUSDT,ETHUSDT,XRPUSDT,SOLUSDT";

async function groupNames(): Promise<string[]> {
  const info = (await r.xinfo("GROUPS", streams.applyPlan)) as unknown[][];
  return info.map((g) => String(g[1]));
}

beforeAll(async () => {
  redis = await startTestRedis();
  r = redis.client();
  await r.set(keys.killSwitch, "false");
  await seedPaperPosition(r, "BTCUSDT", "0.050", "60000.0");
  await seedPaperPosition(r, "ETHUSDT", "-0.800", "3000.00");
  await seedPaperPosition(r, "XRPUSDT", "1000.0", "0.6000");
  await seedPaperPosition(r, "SOLUSDT", "-20", "150.00");
  governor = startGovernor(redis, { GOVERNOR_BLOCK_SYMBOLS: "ETHUSDT", GOVERNOR_DENY_SYMBOLS: "XRPUSDT" });
  const p33Port = await freePort();
  p33 = startServiceProcess({
    entry: P33_ENTRY,
    env: {
      REDIS_URL: redis.url(0),
      P33_METRICS_PORT: String(p33Port),
      P33_EXCHANGE: "paper",
      P33_POLL_SEC: "0.2",
      P33_COOLDOWN_SEC: "0",
      P33_ALLOWLIST: SYMBOLS,
      P33_CONSUMER_NAME: `p33-e2e-${process.pid}`,
    },
  });
  await waitHealthy(p33Port, 20_000);
  await eventually(async () => {
    const names = await groupNames();
    return names.includes(groups.governor) && names.includes(groups.p33);
  });
  apply = await startApply(redis, { APPLY_ALLOWLIST: SYMBOLS, APPLY_PERMIT_WAIT_MS: "5000" });
});

afterAll(async () => {
  await Promise.all([apply?.proc.stop(), governor?.stop(), p33?.stop()]);
  await redis?.stop();
});

describe("proposal → plan → both permits → one order → one result", () => {
  const happy = proposal("BTCUSDT", { action: "PARTIAL_50" });
  let planId = "";

  it("closes half of the paper position with one reduce-only order", async () => {
    planId = await writeProposal(r, happy);
    const res = await waitResult(r, planId);
    expect(res).toMatchObject({
      decision: "EXECUTE",
      executed: "True",
      would_execute: "True",
      reason: "none",
      error: "",
      side: "SELL",
      executed_qty: "0.025",
      avg_price: "60000.0",
      client_order_id: `qp3-c-${planId}`,
      mode: "paper",
      source: "apply_layer",
    });
    expect(res.order_id).toMatch(/^\d+$/);
    expect(Number(res.permit_wait_ms)).toBeGreaterThan(0);
    expect(await r.hget(keys.paperPosition("BTCUSDT"), "position_amt")).toBe("0.025");
    const order = await r.hgetall(keys.paperOrder(`qp3-c-${planId}`));
    expect(order).toMatchObject({ side: "SELL", type: "MARKET", reduce_only: "true", executed_qty: "0.025" });
    expect(await r.hgetall(keys.execRecord(planId))).toMatchObject({
      state: "FILLED",
      result_published: "1",
    });
    expect(Number(await r.get(keys.cooldownLastExecTs("BTCUSDT")))).toBeGreaterThan(Date.now() - 60_000);
    expect(await r.hlen(keys.applyOpenPlans)).toBe(0);
    expect(await r.exists(keys.governorPermit(planId), keys.p33Permit(planId))).toBe(0);

    const m = await scrapeMetrics(apply.port);
    expect(metricValue(m, "apply_executed_total", { status: "success" })).toBe(1);
    expect(metricValue(m, "p33_permit_allow_total")).toBe(1);
    expect(metricValue(m, "quantum_apply_plan_total", { symbol: "BTCUSDT", decision: "EXECUTE" })).toBe(1);
    expect(metricValue(m, "apply_plan_processed_total", { decision: "EXECUTE" })).toBe(1);
    expect(metricValue(m, "apply_result_total", { decision: "EXECUTE", reason: "none" })).toBe(1);
    expect(metricValue(m, "permit_wait_ms")).toBeGreaterThan(0);
    expect(metricValue(m, "apply_permit_wait_seconds_count")).toBe(1);
    expect(metricValue(m, "apply_order_latency_seconds_count")).toBe(1);
  });

  it("a standing proposal yields one plan and one result across many polls and the stream path", async () => {
    expect(planId).not.toBe("");
    await streamProposal(r, happy);
    const before = metricValue(await scrapeMetrics(apply.port), "quantum_apply_dedupe_hits_total");
    await eventually(
      async () =>
        metricValue(await scrapeMetrics(apply.port), "quantum_apply_dedupe_hits_total") >= before + 6,
    );
    expect(await plansFor(r, planId)).toHaveLength(1);
    expect(await resultsFor(r, planId)).toHaveLength(1);
    expect(await r.hget(keys.paperPosition("BTCUSDT"), "position_amt")).toBe("0.025");
  });
});

describe("UPDATE_SL", () => {
  it("places this system's protective stop and replaces it on the next update", async () => {
    const first = await writeProposal(r, proposal("SOLUSDT", { action: "UPDATE_SL", newSlProposed: 153.5 }));
    expect(await waitResult(r, first)).toMatchObject({
      decision: "EXECUTE",
      executed: "True",
      side: "BUY",
      client_order_id: `qp3-s-${first}`,
    });
    expect(await r.hgetall(keys.paperOrder(`qp3-s-${first}`))).toMatchObject({
      type: "STOP_MARKET",
      status: "NEW",
      close_position: "true",
      stop_price: "153.50",
    });
    expect(await r.hget(keys.protectiveStop("SOLUSDT"), "client_order_id")).toBe(`qp3-s-${first}`);

    const second = await writeProposal(r, proposal("SOLUSDT", { action: "UPDATE_SL", newSlProposed: 152 }));
    expect(await waitResult(r, second)).toMatchObject({ decision: "EXECUTE", executed: "True" });
    expect(await r.hget(keys.paperOrder(`qp3-s-${first}`), "status")).toBe("CANCELED");
    expect(await r.hgetall(keys.protectiveStop("SOLUSDT"))).toMatchObject({
      client_order_id: `qp3-s-${second}`,
      stop_price: "152.00",
    });
    expect(await r.hget(keys.paperPosition("SOLUSDT"), "position_amt")).toBe("-20");
  });
});

describe("the Governor says no", () => {
  it("a block record ends the wait at once with governor_blocked", async () => {
    const planId = await writeProposal(r, proposal("ETHUSDT", { action: "FULL_CLOSE_PROPOSED" }));
    const res = await waitResult(r, planId);
    expect(res).toMatchObject({ decision: "BLOCKED", reason: "governor_blocked", executed: "False" });
    expect(res.detail).toBe("governor=dev_governor_block");
    // APPLY_PERMIT_WAIT_MS is 5000: the block must end the wait long before that.
    expect(Number(res.permit_wait_ms)).toBeLessThan(1500);
    expect(await r.hget(keys.paperPosition("ETHUSDT"), "position_amt")).toBe("-0.800");
    const m = await scrapeMetrics(apply.port);
    expect(metricValue(m, "governor_block_total", { reason: "governor_blocked" })).toBe(1);
  });

  it("a permit with granted=false is governor_denied, nothing sent", async () => {
    const planId = await writeProposal(r, proposal("XRPUSDT"));
    expect(await waitResult(r, planId)).toMatchObject({
      decision: "BLOCKED",
      reason: "governor_denied",
      executed: "False",
    });
    expect(await r.exists(keys.paperOrder(`qp3-c-${planId}`))).toBe(0);
    expect(
      metricValue(await scrapeMetrics(apply.port), "governor_block_total", { reason: "governor_denied" }),
    ).toBe(1);
  });
});
