import { computePlanId, keys, streams } from "@quantum/contracts";
import { seedPaperPosition } from "@quantum/exchange";
import { type Stack, startStack } from "@quantum/stack";
import { eventually, metricValue, scrapeMetrics, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Fields,
  proposal,
  quantumctl,
  quantumctlJson,
  ROOT,
  streamEntries,
  streamProposal,
  tally,
  waitResult,
  writeProposal,
} from "./support.js";

// The whole flow end to end: the stack of `bash scripts/stack.sh` (same supervisor, real processes) on a test Redis
// given as REDIS_URL. Symbols: BTCUSDT happy path and kill switch, ETHUSDT governor block, XRPUSDT governor
// deny, SOLUSDT P3.3 reconcile hold, DOGEUSDT governor outage, BNBUSDT the demo feeder's.
const SYMBOLS = ["BTCUSDT", "ETHUSDT", "XRPUSDT", "SOLUSDT", "DOGEUSDT", "BNBUSDT"];
let redis: TestRedis;
let r: Redis;
let sub: Redis;
let stack: Stack;
let url = "";
const supervisorLines: string[] = [];

const port = (s: "apply-layer" | "position-state-brain" | "decision-intelligence") => stack.services[s].port;
const paperAmt = async (symbol: string) => Number(await r.hget(keys.paperPosition(symbol), "position_amt"));
const orderCount = () => r.xlen(streams.paperOrders);

beforeAll(async () => {
  redis = await startTestRedis();
  r = redis.client();
  sub = redis.client();
  url = redis.url(0);
  // Paper positions exist before P3.3 starts, so its ledgers are initialised from them.
  await seedPaperPosition(r, "BTCUSDT", "0.400", "60000.0");
  await seedPaperPosition(r, "ETHUSDT", "-0.800", "3000.00");
  await seedPaperPosition(r, "XRPUSDT", "1000.0", "0.6000");
  await seedPaperPosition(r, "SOLUSDT", "-20", "150.00");
  await seedPaperPosition(r, "DOGEUSDT", "20000", "0.15000");
  stack = await startStack({
    root: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      REDIS_URL: url,
      P33_COOLDOWN_SEC: "0",
      APPLY_PERMIT_WAIT_MS: "4000",
      GOVERNOR_BLOCK_SYMBOLS: "ETHUSDT",
      GOVERNOR_DENY_SYMBOLS: "XRPUSDT",
      P35_SNAPSHOT_INTERVAL_SEC: "0.5",
    },
    out: (line) => {
      if (line.startsWith("[stack]")) supervisorLines.push(line);
    },
    logDir: null,
    symbols: SYMBOLS,
    feederSymbols: ["BNBUSDT"],
    feederIntervalSec: 2,
    preferDefaultPorts: false,
  });
}, 90_000);

afterAll(async () => {
  const result = await stack?.stop("e2e done");
  await redis?.stop();
  // The supervisor stopped every process cleanly and left the given Redis alone.
  expect(result?.exitCode, supervisorLines.join("\n")).toBe(0);
}, 60_000);

describe("the stack as scripts/stack.sh runs it", () => {
  it("runs the three services in paper mode on the given Redis, every /health green", async () => {
    expect(stack.redis).toMatchObject({ url, startedByStack: false, pid: null });
    const status = await quantumctlJson<{
      services: Array<{ service: string; state: string; mode: string | null; metricsPort: number | null }>;
    }>(url, ["mode"]);
    for (const s of ["apply-layer", "position-state-brain", "decision-intelligence"] as const) {
      expect(status.doc.services.find((x) => x.service === s)).toMatchObject({
        state: "running",
        metricsPort: port(s),
      });
    }
    expect(status.doc.services.find((x) => x.service === "apply-layer")?.mode).toBe("paper");
    const health = await quantumctlJson<{ healthy: boolean; services: Array<{ ok: boolean; port: number }> }>(
      url,
      ["health"],
    );
    expect(health.code).toBe(0);
    expect(health.doc.healthy).toBe(true);
    expect(health.doc.services.map((s) => s.port).sort()).toEqual(
      [port("apply-layer"), port("position-state-brain"), port("decision-intelligence")].sort(),
    );
    // The services publish their mode in /metrics too.
    const m = await scrapeMetrics(port("apply-layer"));
    expect(metricValue(m, "quantum_service_info", { service: "apply-layer", mode: "paper" })).toBe(1);
  });

  it("happy path: proposal → plan → both permits → one paper order → EXECUTE result → ledger", async () => {
    const p = proposal("BTCUSDT", { action: "PARTIAL_50" });
    const planId = computePlanId(p);
    const events: string[] = [];
    const gov = `__keyspace@0__:${keys.governorPermit(planId)}`;
    const p33 = `__keyspace@0__:${keys.p33Permit(planId)}`;
    sub.on("message", (channel: string, event: string) => {
      if (channel === gov) events.push(`governor:${event}`);
      if (channel === p33) events.push(`p33:${event}`);
    });
    await sub.subscribe(gov, p33);
    await writeProposal(r, p);
    const res = await waitResult(r, planId);
    expect(res).toMatchObject({
      decision: "EXECUTE",
      executed: "True",
      reason: "none",
      error: "",
      side: "SELL",
      executed_qty: "0.200",
      client_order_id: `qp3-c-${planId}`,
      mode: "paper",
    });
    const plan = (await streamEntries(r, streams.applyPlan)).find((e) => e.f.plan_id === planId);
    expect(plan?.f).toMatchObject({ decision: "EXECUTE", symbol: "BTCUSDT", action: "PARTIAL_50" });
    // Both permits were written and consumed (deleted) by the Apply Layer.
    await eventually(() =>
      ["governor:set", "p33:set", "governor:del", "p33:del"].every((e) => events.includes(e)),
    );
    await sub.unsubscribe(gov, p33);
    expect(await r.exists(keys.governorPermit(planId), keys.p33Permit(planId))).toBe(0);
    // One order on the paper exchange.
    const orders = (await streamEntries(r, streams.paperOrders)).filter(
      (e) => e.f.client_order_id === `qp3-c-${planId}`,
    );
    expect(orders).toHaveLength(1);
    expect(await r.hgetall(keys.paperOrder(`qp3-c-${planId}`))).toMatchObject({
      side: "SELL",
      reduce_only: "true",
      executed_qty: "0.200",
    });
    expect(await paperAmt("BTCUSDT")).toBe(0.2);
    expect(await r.hgetall(keys.execRecord(planId))).toMatchObject({ state: "FILLED" });
    // P3.3 applied the result to its ledger exactly once.
    await eventually(async () => {
      const ledger = await r.hgetall(keys.positionLedger("BTCUSDT"));
      return ledger.last_result_plan_id === planId && Number(ledger.last_known_amt) === 0.2;
    });
    const applyM = await scrapeMetrics(port("apply-layer"));
    expect(metricValue(applyM, "apply_executed_total", { status: "success" })).toBeGreaterThanOrEqual(1);
    expect(metricValue(applyM, "p33_permit_allow_total")).toBeGreaterThanOrEqual(1);
    const p33M = await scrapeMetrics(port("position-state-brain"));
    expect(metricValue(p33M, "p33_permit_allow_total", { symbol: "BTCUSDT" })).toBe(1);
  });

  it("kill switch: `quantumctl kill on` stops every order; `kill off` resumes", async () => {
    const on = await quantumctlJson<{ readBack: { halted: boolean } }>(url, [
      "kill",
      "on",
      "--reason",
      "e2e",
    ]);
    expect(on.code).toBe(0);
    expect(on.doc.readBack.halted).toBe(true);
    expect((await quantumctl(url, ["kill", "status"])).code).toBe(3);
    const ordersAtOn = await orderCount();

    const blocked = await writeProposal(r, proposal("BTCUSDT", { action: "PARTIAL_50" }));
    expect(await waitResult(r, blocked)).toMatchObject({
      decision: "BLOCKED",
      executed: "False",
      reason: "kill_switch_active",
    });
    await eventually(
      async () => metricValue(await scrapeMetrics(port("apply-layer")), "apply_kill_switch_active") === 1,
    );
    expect(await orderCount()).toBe(ordersAtOn);
    expect(await paperAmt("BTCUSDT")).toBe(0.2);

    const off = await quantumctl(url, ["kill", "off"]);
    expect(off.code).toBe(0);
    expect((await quantumctl(url, ["kill", "status"])).code).toBe(0);
    const resumed = await writeProposal(r, proposal("BTCUSDT", { action: "PARTIAL_50" }));
    expect(await waitResult(r, resumed)).toMatchObject({
      decision: "EXECUTE",
      executed: "True",
      executed_qty: "0.100",
    });
    expect(await orderCount()).toBeGreaterThan(ordersAtOn);
  });

  it("governor block: BLOCKED governor_blocked at once, nothing sent", async () => {
    const planId = await writeProposal(r, proposal("ETHUSDT"));
    const res = await waitResult(r, planId);
    expect(res).toMatchObject({ decision: "BLOCKED", reason: "governor_blocked", executed: "False" });
    expect(Number(res.permit_wait_ms)).toBeLessThan(4000);
    expect(await r.exists(keys.governorBlock(planId))).toBe(1);
    expect(await r.exists(keys.paperOrder(`qp3-c-${planId}`))).toBe(0);
    expect(await paperAmt("ETHUSDT")).toBe(-0.8);
  });

  it("governor deny: a permit with granted=false is governor_denied", async () => {
    const planId = await writeProposal(r, proposal("XRPUSDT"));
    expect(await waitResult(r, planId)).toMatchObject({ decision: "BLOCKED", reason: "governor_denied" });
    expect(await paperAmt("XRPUSDT")).toBe(1000);
  });

  it("P3.3 deny: a reconcile hold is p33_permit_denied with the P3.3 reason in detail", async () => {
    await r.set(keys.reconcileHold("SOLUSDT"), "e2e");
    const planId = await writeProposal(r, proposal("SOLUSDT", { action: "FULL_CLOSE_PROPOSED" }));
    const res = await waitResult(r, planId);
    expect(res).toMatchObject({ decision: "BLOCKED", reason: "p33_permit_denied", executed: "False" });
    expect(res.detail).toContain("reconcile_hold_active");
    expect(await paperAmt("SOLUSDT")).toBe(-20);
    const m = await scrapeMetrics(port("position-state-brain"));
    expect(metricValue(m, "p33_permit_deny_total", { reason: "reconcile_hold_active" })).toBe(1);
    await r.del(keys.reconcileHold("SOLUSDT"));
  });

  it("permit timeout: with the governor stopped the plan ends permit_timeout_or_missing:missing_governor", async () => {
    const exit = await stack.stopChild("dev-governor");
    expect(exit.code).toBe(0);
    const planId = await writeProposal(r, proposal("DOGEUSDT"));
    const res = await waitResult(r, planId);
    expect(res).toMatchObject({ decision: "BLOCKED", reason: "permit_timeout_or_missing:missing_governor" });
    expect(Number(res.permit_wait_ms)).toBeGreaterThanOrEqual(4000);
    expect(await paperAmt("DOGEUSDT")).toBe(20000);
    // Stopping a process on purpose is not a failure: the stack keeps running; the governor comes back.
    expect(stack.state().status).toBe("running");
    await stack.startChild("dev-governor");
    const next = await writeProposal(r, proposal("DOGEUSDT", { action: "FULL_CLOSE_PROPOSED" }));
    expect(await waitResult(r, next)).toMatchObject({ decision: "EXECUTE", executed: "True" });
    expect(await paperAmt("DOGEUSDT")).toBe(0);
  });

  it("P3.5 counts match apply.result exactly (buckets, 1h window, processed_total, /metrics)", async () => {
    await stack.stopChild("demo-feeder");
    await eventually(async () => (await r.hlen(keys.applyOpenPlans)) === 0, { timeoutMs: 15_000 });
    const results = (await streamEntries(r, streams.applyResult)).map((e) => e.f);
    expect(results.length).toBeGreaterThanOrEqual(8);
    await eventually(async () => Number(await r.hget(keys.p35Status, "processed_total")) === results.length, {
      timeoutMs: 15_000,
    });
    const fromBuckets: Record<string, Record<string, number>> = { decision: {}, reason: {} };
    for (const k of await r.keys(`${keys.p35Bucket("")}*`)) {
      for (const [field, v] of Object.entries(await r.hgetall(k))) {
        const [kind, name] = [field.slice(0, field.indexOf(":")), field.slice(field.indexOf(":") + 1)];
        const into = fromBuckets[kind];
        if (into !== undefined) into[name] = (into[name] ?? 0) + Number(v);
      }
    }
    expect(fromBuckets.decision).toEqual(tally(results, "decision"));
    expect(fromBuckets.reason).toEqual(tally(results, "reason"));
    await eventually(async () => {
      const w = await r.hgetall(keys.p35DecisionCounts("1h"));
      const asNumbers = Object.fromEntries(Object.entries(w).map(([d, n]) => [d, Number(n)]));
      expect(asNumbers).toEqual(tally(results, "decision"));
      return true;
    });
    const m = await scrapeMetrics(port("decision-intelligence"));
    expect(metricValue(m, "p35_processed_total")).toBe(results.length);
    for (const [d, n] of Object.entries(tally(results, "decision"))) {
      expect(metricValue(m, "p35_decisions_total", { decision: d })).toBe(n);
    }
  });

  it("dashboards a and c name the dominant gate", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 30; i++)
      ids.push(await streamProposal(r, proposal("ETHUSDT", { killScore: 0.2 + i / 1000 })));
    for (const id of ids) await waitResult(r, id);
    const results: Fields[] = (await streamEntries(r, streams.applyResult)).map((e) => e.f);
    const gates = Object.entries(tally(results, "reason"))
      .filter(([reason]) => reason !== "none")
      .sort((a, b) => b[1] - a[1]);
    expect(gates[0]?.[0]).toBe("governor_blocked");
    type Gate = { reason: string; score: number; success?: boolean };
    const c = await eventually(
      async () => {
        const run = await quantumctlJson<{ total: number; gates: Gate[]; warnings: Gate[] }>(url, [
          "dashboard",
          "c",
        ]);
        if (run.doc.total !== results.length)
          throw new Error(`window total ${run.doc.total} != ${results.length}`);
        return run;
      },
      { timeoutMs: 15_000 },
    );
    expect(c.code).toBe(0);
    expect(c.doc.gates[0]).toMatchObject({ reason: "governor_blocked", score: gates[0]?.[1] });
    const a = await quantumctlJson<{ total: number; reasons: Gate[] }>(url, ["dashboard", "a"]);
    expect(a.doc.total).toBe(results.length);
    expect(a.doc.reasons.find((g) => g.success !== true)).toMatchObject({ reason: "governor_blocked" });
    const human = await quantumctl(url, ["dashboard", "c"]);
    expect(human.stdout).toContain("governor_blocked");
  });
});
