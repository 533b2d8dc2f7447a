import { keys, streams } from "@quantum/contracts";
import { seedPaperPosition } from "@quantum/exchange";
import {
  eventually,
  hasMetric,
  httpGet,
  metricValue,
  scrapeMetrics,
  startServiceProcess,
  startTestRedis,
  type TestRedis,
} from "@quantum/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  APPLY_ENTRY,
  allowP33,
  grantGovernor,
  planIdOf,
  proposal,
  startApply,
  streamProposal,
  waitPlan,
  waitResult,
  writeProposal,
} from "./helpers.js";

let redis: TestRedis;

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.stop();
});

/** Nothing listens on port 1: a service that tried to connect would retry forever instead of exiting. */
const UNREACHABLE = "redis://127.0.0.1:1/0";

async function refused(
  env: Record<string, string>,
): Promise<{ code: number | string; stderr: string; ms: number }> {
  const t0 = Date.now();
  const proc = startServiceProcess({
    entry: APPLY_ENTRY,
    env: { REDIS_URL: UNREACHABLE, PROMETHEUS_PORT: "0", ...env },
  });
  const code = await proc.exited;
  return { code, stderr: proc.stderr(), ms: Date.now() - t0 };
}

describe("refusals before any connection", () => {
  it("TESTNET=true with APPLY_MODE=production exits non-zero with a clear message", async () => {
    const out = await refused({
      APPLY_MODE: "production",
      TESTNET: "true",
      BINANCE_API_KEY: "k",
      BINANCE_API_SECRET: "s",
    });
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("TESTNET=true is refused with APPLY_MODE=production");
    expect(out.ms).toBeLessThan(5000);
  });

  it("APPLY_ALLOW_LOOPBACK_EXCHANGE=true with APPLY_MODE=production exits non-zero before any connection", async () => {
    const out = await refused({
      APPLY_MODE: "production",
      BINANCE_API_KEY: "k",
      BINANCE_API_SECRET: "s",
      APPLY_ALLOW_LOOPBACK_EXCHANGE: "true",
      BINANCE_BASE_URL: "http://127.0.0.1:9",
    });
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("APPLY_ALLOW_LOOPBACK_EXCHANGE=true is refused with APPLY_MODE=production");
    expect(out.ms).toBeLessThan(5000);
  });

  it.each([
    [{ APPLY_MODE: "production" }, "missing_credentials"],
    [
      {
        APPLY_MODE: "testnet",
        BINANCE_TESTNET_API_KEY: "k",
        BINANCE_TESTNET_API_SECRET: "s",
        BINANCE_BASE_URL: "https://fapi.binance.com",
      },
      "EXCHANGE_HOST_NOT_ALLOWED",
    ],
    [
      {
        APPLY_MODE: "production",
        BINANCE_API_KEY: "k",
        BINANCE_API_SECRET: "s",
        BINANCE_BASE_URL: "http://127.0.0.1:9",
      },
      "EXCHANGE_HOST_NOT_ALLOWED",
    ],
    [
      {
        APPLY_MODE: "production",
        BINANCE_API_KEY: "k",
        BINANCE_API_SECRET: "s",
        APPLY_TEST_CRASH_AT: "after_fill",
      },
      "APPLY_TEST_CRASH_AT",
    ],
  ])("%o is refused (%s)", async (env, text) => {
    const out = await refused(env);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(text);
  });
});

describe("a running Apply Layer", () => {
  it("exports every Apply Layer metric, health, readiness and its status key; SIGTERM finishes the plan in flight", async () => {
    const r = redis.client(0);
    await r.set(keys.killSwitch, "false");
    const apply = await startApply(redis, { APPLY_PERMIT_WAIT_MS: "2500" });
    const m = await scrapeMetrics(apply.port);
    for (const name of [
      "p33_permit_deny_total",
      "p33_permit_allow_total",
      "governor_block_total",
      "apply_executed_total",
      "apply_plan_processed_total",
      "permit_wait_ms",
      "position_mismatch_seconds",
      "apply_permit_wait_seconds",
      "apply_order_latency_seconds",
      "quantum_apply_plan_total",
      "quantum_apply_dedupe_hits_total",
      "apply_kill_switch_active",
      "quantum_service_info",
      "quantum_stream_messages_total",
      "exchange_requests_total",
      "process_resident_memory_bytes",
    ]) {
      expect(hasMetric(m, name), name).toBe(true);
    }
    expect(metricValue(m, "quantum_service_info", { service: "apply-layer", mode: "paper" })).toBe(1);
    expect((await httpGet(apply.port, "/health")).status).toBe(200);
    expect((await httpGet(apply.port, "/ready")).status).toBe(200);
    const status = await r.hgetall(keys.serviceStatus("apply-layer"));
    expect(status).toMatchObject({
      service: "apply-layer",
      mode: "paper",
      venue: "paper",
      metrics_port: String(apply.port),
    });
    expect(
      apply.proc
        .logs()
        .some(
          (l) =>
            l.msg ===
              "PAPER MODE - venue paper, no real orders; permits: PRODUCTION MODE - Both permits required (Governor + P3.3)" &&
            l.venue === "paper",
        ),
    ).toBe(true);

    const planId = await streamProposal(r, proposal("BTCUSDT"));
    await waitPlan(r, planId);
    const t0 = Date.now();
    const code = await apply.proc.stop();
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await waitResult(r, planId, 1000)).toMatchObject({
      reason: "permit_timeout_or_missing:missing_both",
    });
  });

  it("dry_run: would_execute True, permits not consumed, nothing sent", async () => {
    const r = redis.client(1);
    await r.set(keys.killSwitch, "false");
    await seedPaperPosition(r, "BTCUSDT", "0.050", "60000.0");
    const apply = await startApply(redis, { REDIS_URL: redis.url(1), APPLY_MODE: "dry_run" });
    try {
      const p = proposal("BTCUSDT");
      const planId = planIdOf(p);
      await grantGovernor(r, planId, "BTCUSDT");
      await allowP33(r, planId, "BTCUSDT", "0.025", "0.050");
      await writeProposal(r, p);
      expect(await waitPlan(r, planId)).toMatchObject({ decision: "EXECUTE" });
      expect(await waitResult(r, planId)).toMatchObject({
        decision: "EXECUTE",
        executed: "False",
        would_execute: "True",
        reason: "none",
        mode: "dry_run",
      });
      expect(await r.exists(keys.governorPermit(planId), keys.p33Permit(planId))).toBe(2);
      expect(await r.exists(keys.execRecord(planId))).toBe(0);
      expect(await r.exists(streams.paperOrders)).toBe(0);
      expect(await r.hget(keys.paperPosition("BTCUSDT"), "position_amt")).toBe("0.050");
      expect(await r.hget(keys.serviceStatus("apply-layer"), "venue")).toBe("none");
    } finally {
      await apply.proc.stop();
    }
  });
});

describe("Redis outage", () => {
  it("/health goes red while Redis is down and the service picks up where it was when it returns", async () => {
    const aof = await startTestRedis({ appendOnly: true });
    const r = aof.client(0);
    await r.set(keys.killSwitch, "false");
    const apply = await startApply(aof);
    try {
      await aof.stopServer();
      await eventually(async () => (await httpGet(apply.port, "/health")).status === 503, {
        timeoutMs: 10_000,
      });
      await eventually(async () => metricValue(await scrapeMetrics(apply.port), "quantum_redis_up") === 0);
      await aof.startServer();
      await eventually(async () => (await httpGet(apply.port, "/health")).status === 200, {
        timeoutMs: 15_000,
      });
      const planId = await writeProposal(r, proposal("BTCUSDT", { action: "HOLD" }));
      expect(await waitResult(r, planId)).toMatchObject({ decision: "SKIP", reason: "action_hold" });
      expect(apply.proc.proc.exitCode).toBeNull();
    } finally {
      await apply.proc.stop();
      await aof.stop();
    }
  });
});
