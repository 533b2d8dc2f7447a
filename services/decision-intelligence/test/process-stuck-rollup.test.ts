import { spawn } from "node:child_process";
import { keys, p35DayId } from "@quantum/contracts";
import { eventually, metricValue, scrapeMetrics, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLLUP_META } from "../src/day-rollups.js";
import { bucketId, minuteOf } from "../src/time.js";
import { alerts, assertBuilt, ENTRY, feed, pending, startService, waitWindowTicks } from "./support.js";

let redis: TestRedis;

beforeAll(async () => {
  assertBuilt();
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis.stop();
});

const INTERVAL_SEC = 0.2;
const DAY_MS = 86_400_000;

function result(symbol: string, decision: string, reason: string, tsSec: number): Record<string, string> {
  return {
    symbol,
    decision,
    executed: decision === "EXECUTE" ? "True" : "False",
    reason,
    error: reason === "none" ? "" : reason,
    timestamp: tsSec.toFixed(3),
  };
}

async function stuckGauge(port: number, symbol: string): Promise<number | undefined> {
  return metricValue(await scrapeMetrics(port), "p35_symbol_stuck", { symbol });
}

describe("stuck symbols (real process, default P35_STUCK_MINUTES and P35_STUCK_MIN_PLANS)", () => {
  it("one alert naming the dominant gate, cleared by one EXECUTE, no repeat within the cooldown; below the minimum never", async () => {
    const r = redis.client(2);
    const env = {
      P35_SNAPSHOT_INTERVAL_SEC: String(INTERVAL_SEC),
      P35_ALLOWLIST: "BTCUSDT,ETHUSDT,SOLUSDT",
      P35_ALERT_COOLDOWN: "300",
    };
    let svc = await startService(redis, 2, env);
    expect(await stuckGauge(svc.port, "BTCUSDT")).toBe(0);

    // 15 simulated minutes of BTCUSDT results, one a minute, all BLOCKED (timestamps in the past); ETHUSDT has
    // two BLOCKED results (below P35_STUCK_MIN_PLANS = 3); SOLUSDT executes.
    const nowSec = Date.now() / 1000;
    const entries: Record<string, string>[] = [];
    for (let m = 14; m >= 0; m--) {
      const reason = m % 3 === 0 ? "kill_score_critical" : "p33_permit_denied";
      entries.push(result("BTCUSDT", "BLOCKED", reason, nowSec - m * 60));
      if (m < 2) entries.push(result("ETHUSDT", "BLOCKED", "p33_permit_denied", nowSec - m * 60));
      entries.push(
        result("SOLUSDT", m === 0 ? "EXECUTE" : "SKIP", m === 0 ? "none" : "action_hold", nowSec - m * 60),
      );
    }
    await feed(r, entries);
    await eventually(async () => (await stuckGauge(svc.port, "BTCUSDT")) === 1, { timeoutMs: 10_000 });
    await waitWindowTicks(r, 5, INTERVAL_SEC);
    let got = await alerts(r);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({
      window: "stuck",
      symbol: "BTCUSDT",
      reason: "p33_permit_denied",
      score: 10,
      total: 15,
      severity: "HIGH",
    });
    expect(await stuckGauge(svc.port, "ETHUSDT")).toBe(0);
    expect(await stuckGauge(svc.port, "SOLUSDT")).toBe(0);
    expect(await r.hgetall(keys.p35SymbolDecisionCounts("15m"))).toMatchObject({
      "BTCUSDT:BLOCKED": "15",
      "ETHUSDT:BLOCKED": "2",
      "SOLUSDT:EXECUTE": "1",
      "SOLUSDT:SKIP": "14",
    });

    // still stuck after a restart: the cooldown is in Redis, so no second alert
    expect(await svc.proc.stop()).toBe(0);
    svc = await startService(redis, 2, env);
    await eventually(async () => (await stuckGauge(svc.port, "BTCUSDT")) === 1, { timeoutMs: 10_000 });
    await waitWindowTicks(r, 5, INTERVAL_SEC);
    expect(await alerts(r)).toHaveLength(1);

    // one EXECUTE clears it
    await feed(r, [result("BTCUSDT", "EXECUTE", "none", Date.now() / 1000)]);
    await eventually(async () => (await stuckGauge(svc.port, "BTCUSDT")) === 0, { timeoutMs: 10_000 });
    await waitWindowTicks(r, 3, INTERVAL_SEC);
    got = await alerts(r);
    expect(got).toHaveLength(1);
    expect(got.some((a) => a.symbol === "ETHUSDT")).toBe(false);
    expect(await pending(r)).toBe(0);
    expect(await svc.proc.stop()).toBe(0);
  });
});

/** Run `dist/main.js --rollup-day DAY` once; resolves with its exit code and stdout. */
function rollupOnce(db: number, day: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ENTRY, "--rollup-day", day], {
      env: {
        PATH: process.env.PATH,
        REDIS_URL: redis.url(db),
        LOG_LEVEL: "warn",
        P35_CONSUMER_NAME: "ondemand",
      },
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, out }));
  });
}

/** The rollup's count fields (meta fields left out). */
async function rollupCounts(r: Redis, day: string): Promise<Record<string, string>> {
  const all = await r.hgetall(keys.p35Day(day));
  return Object.fromEntries(Object.entries(all).filter(([k]) => !k.startsWith("meta:")));
}

describe("daily rollups (real processes)", () => {
  it("two instances and a SIGKILL: exactly one rollup of yesterday, equal to its buckets' sums", async () => {
    const r = redis.client(3);
    const todayStart = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const yesterday = p35DayId(todayStart - DAY_MS);
    const first = minuteOf(todayStart - DAY_MS);
    // yesterday's first and last minute and one between; the minute before yesterday and today's first minute
    const seeded: Array<[number, Record<string, string>]> = [
      [first - 1, { "decision:SKIP": "50" }],
      [
        first,
        {
          "decision:BLOCKED": "3",
          "reason:p33_permit_denied": "3",
          "symbol_decision:BTCUSDT:BLOCKED": "3",
          "symbol_reason:BTCUSDT:p33_permit_denied": "3",
        },
      ],
      [
        first + 721,
        {
          "decision:EXECUTE": "2",
          "reason:none": "2",
          "symbol_decision:ETHUSDT:EXECUTE": "2",
          "symbol_reason:ETHUSDT:none": "2",
        },
      ],
      [
        first + 1439,
        {
          "decision:BLOCKED": "1",
          "reason:kill_score_critical": "1",
          "symbol_decision:BTCUSDT:BLOCKED": "1",
          "symbol_reason:BTCUSDT:kill_score_critical": "1",
        },
      ],
      [first + 1440, { "decision:EXECUTE": "70" }],
    ];
    for (const [m, h] of seeded) await r.hset(keys.p35Bucket(bucketId(m)), h);
    const expected = {
      "decision:BLOCKED": "4",
      "decision:EXECUTE": "2",
      "reason:p33_permit_denied": "3",
      "reason:none": "2",
      "reason:kill_score_critical": "1",
      "symbol_decision:BTCUSDT:BLOCKED": "4",
      "symbol_decision:ETHUSDT:EXECUTE": "2",
      "symbol_reason:BTCUSDT:p33_permit_denied": "3",
      "symbol_reason:ETHUSDT:none": "2",
      "symbol_reason:BTCUSDT:kill_score_critical": "1",
    };

    const env = (name: string) => ({
      P35_SNAPSHOT_INTERVAL_SEC: String(INTERVAL_SEC),
      P35_CONSUMER_NAME: name,
    });
    const [a, b] = await Promise.all([
      startService(redis, 3, env("p35-a")),
      startService(redis, 3, env("p35-b")),
    ]);
    // SIGKILL one instance as soon as it is up (its first tick rolls up the day that ended), then restart it
    await b.proc.kill();
    await eventually(async () => (await r.exists(keys.p35Day(yesterday))) === 1, { timeoutMs: 10_000 });
    const written = await r.hgetall(keys.p35Day(yesterday));
    const b2 = await startService(redis, 3, env("p35-b"));
    await waitWindowTicks(r, 5, INTERVAL_SEC);

    expect(await rollupCounts(r, yesterday)).toEqual(expected);
    expect(await r.hgetall(keys.p35Day(yesterday))).toEqual(written); // never rewritten
    expect(written[ROLLUP_META.buckets]).toBe("3");
    expect(["p35-a", "p35-b"]).toContain(written[ROLLUP_META.writtenBy]);
    expect(await r.exists(keys.p35Day(p35DayId(todayStart)))).toBe(0); // today is not over
    // kept P35_DAY_RETENTION_DAYS (90) after the end of the day
    expect(await r.expiretime(keys.p35Day(yesterday))).toBe((todayStart + 90 * DAY_MS) / 1000);
    const rollups = await Promise.all(
      [a, b2].map(async (s) => metricValue(await scrapeMetrics(s.port), "p35_day_rollups_total") ?? 0),
    );
    expect(rollups.reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(1);
    await Promise.all([a.proc.stop(), b2.proc.stop()]);

    // on demand for the day before yesterday, twice at once: one writes, one finds it done; both exit 0
    const dayBefore = p35DayId(todayStart - 2 * DAY_MS);
    const runs = await Promise.all([rollupOnce(3, dayBefore), rollupOnce(3, dayBefore)]);
    expect(runs.map((x) => x.code)).toEqual([0, 0]);
    expect(runs.filter((x) => x.out.includes('"written":true'))).toHaveLength(1);
    expect(await rollupCounts(r, dayBefore)).toEqual({ "decision:SKIP": "50" });
    // a day with no bucket left: exit 3, nothing written; not a day: exit 2
    const old = p35DayId(todayStart - 5 * DAY_MS);
    expect((await rollupOnce(3, old)).code).toBe(3);
    expect(await r.exists(keys.p35Day(old))).toBe(0);
    expect((await rollupOnce(3, "20261399")).code).toBe(2);
  });
});
