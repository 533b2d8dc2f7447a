import { keys } from "@quantum/contracts";
import {
  eventually,
  type FakeBinance,
  freePort,
  metricValue,
  scrapeMetrics,
  startFakeBinance,
  startServiceProcess,
  startTestRedis,
  type TestRedis,
} from "@quantum/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Brain,
  ENTRY,
  fakeTestnetEnv,
  makePlan,
  publishPlan,
  readPermit,
  startBrain,
} from "./helpers.js";

let redis: TestRedis;
let fake: FakeBinance;
const running: Brain[] = [];
const API = { apiKey: "test-key-123", apiSecret: "test-secret-456" };

beforeAll(async () => {
  redis = await startTestRedis();
  fake = await startFakeBinance({
    ...API,
    positions: [{ symbol: "BTCUSDT", positionAmt: "0.05", markPrice: "60000" }],
  });
});
afterAll(async () => {
  await Promise.all(running.map((b) => b.proc.kill()));
  await fake.close();
  await redis.stop();
});

/** Run the service with a config that must be refused; resolve to exit code and stderr. */
async function refusedStart(env: Record<string, string>): Promise<{ code: number | string; stderr: string }> {
  const deadPort = await freePort(); // nothing listens here: the service must not need Redis to refuse
  const proc = startServiceProcess({
    entry: ENTRY,
    env: { REDIS_URL: `redis://127.0.0.1:${deadPort}/0`, P33_METRICS_PORT: String(await freePort()), ...env },
  });
  const code = await proc.exited;
  return { code, stderr: proc.stderr() };
}

describe("venues", () => {
  it("paper mode starts without any credentials and reports itself in the status key", async () => {
    const brain = await startBrain(redis, 1);
    running.push(brain);
    const client = redis.client(1);
    const status = await eventually(async () => {
      const s = await client.hgetall(keys.serviceStatus("position-state-brain"));
      if (s.venue === undefined) throw new Error("no status yet");
      return s;
    });
    expect(status).toMatchObject({ service: "position-state-brain", venue: "paper", mode: "paper" });
    // quantumctl judges snapshot staleness and cooldowns with the values P3.3 runs with.
    expect(Number(status.stale_threshold_sec)).toBeGreaterThan(0);
    expect(status.cooldown_sec).toMatch(/^\d+(\.\d+)?$/);
    expect(status.metrics_port).toBe(String(brain.port));
    expect(status.consumer_name).toMatch(/^test-1-/);
    const started = brain.proc.logs().find((l) => Array.isArray(l.allowlist));
    expect(started).toMatchObject({ venue: "paper", allowlist: ["BTCUSDT"] });
  });

  it("testnet without credentials exits non-zero with a one-line reason, before connecting", async () => {
    const { code, stderr } = await refusedStart({ P33_EXCHANGE: "testnet" });
    expect(code).not.toBe(0);
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("BINANCE_TESTNET_API_KEY");
  });

  it("production with a testnet base URL is refused with a one-line reason", async () => {
    const { code, stderr } = await refusedStart({
      P33_EXCHANGE: "production",
      BINANCE_API_KEY: "k",
      BINANCE_API_SECRET: "s",
      BINANCE_BASE_URL: "https://testnet.binancefuture.com",
    });
    expect(code).not.toBe(0);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("not allowed");
  });

  it("a poll interval needing more request weight than the share is refused with a one-line reason", async () => {
    const { code, stderr } = await refusedStart({
      P33_EXCHANGE: "testnet",
      BINANCE_TESTNET_API_KEY: "k",
      BINANCE_TESTNET_API_SECRET: "s",
      P33_POLL_SEC: "0.5",
    });
    expect(code).not.toBe(0);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("EXCHANGE_RATE_LIMIT_SHARE_PCT=10 gives 240");
  });

  it("production with APPLY_ALLOW_LOOPBACK_EXCHANGE=true is refused before connecting, with a one-line reason", async () => {
    const { code, stderr } = await refusedStart({
      P33_EXCHANGE: "production",
      BINANCE_API_KEY: "k",
      BINANCE_API_SECRET: "s",
      APPLY_ALLOW_LOOPBACK_EXCHANGE: "true",
      BINANCE_BASE_URL: fake.baseUrl,
    });
    expect(code).not.toBe(0);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("APPLY_ALLOW_LOOPBACK_EXCHANGE=true is refused with P33_EXCHANGE=production");
    expect(fake.requests()).toHaveLength(0);
  });

  it("testnet venue: allows from the venue's positions; an outage gives bounded no_exchange_snapshot / stale denies", async () => {
    const db = 2;
    const client = redis.client(db);
    const brain = await startBrain(redis, db, {
      ...fakeTestnetEnv(fake.baseUrl, API),
      P33_STALE_THRESHOLD_SEC: "1",
      // A positions call every 0.2 s weighs 1,500 of the IP's 2,400 per minute.
      EXCHANGE_RATE_LIMIT_SHARE_PCT: "100",
    });
    running.push(brain);
    const ok = makePlan("BTCUSDT", { action: "PARTIAL_50" });
    await publishPlan(client, ok);
    expect(await readPermit(client, ok.planId)).toMatchObject({
      allow: true,
      safeQty: "0.025",
      exchangePositionAmt: "0.05",
    });
    expect(await client.hget(keys.positionSnapshot("BTCUSDT"), "source")).toBe("testnet");

    fake.injectFault({ method: "GET", path: "/fapi/v2/positionRisk", kind: "hang", times: 10_000 });
    // the snapshot ages while the venue hangs: stale denies
    await eventually(
      async () =>
        metricValue(await scrapeMetrics(brain.port), "p33_snapshot_age_seconds", { symbol: "BTCUSDT" }) > 1,
      { timeoutMs: 8000, intervalMs: 100 },
    );
    const stale = makePlan("BTCUSDT");
    await publishPlan(client, stale);
    expect(await readPermit(client, stale.planId)).toMatchObject({
      allow: false,
      reason: "stale_exchange_state",
    });

    // no snapshot at all: one bounded on-demand fetch, then a deny (no hang)
    await client.del(keys.positionSnapshot("BTCUSDT"));
    const missing = makePlan("BTCUSDT");
    const t0 = Date.now();
    await publishPlan(client, missing);
    const permit = await readPermit(client, missing.planId, 3000);
    const tookMs = Date.now() - t0;
    expect(permit).toMatchObject({ allow: false, reason: "no_exchange_snapshot" });
    expect(tookMs).toBeLessThan(1500);
    const health = await fetch(`http://127.0.0.1:${brain.port}/health`);
    expect(health.status).toBe(200);
    fake.clearFaults();
  });
});
