import { keys, P35_WINDOWS, type P35Alert, type P35Window, streams } from "@quantum/contracts";
import { eventually, metricValue, scrapeMetrics, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bucketId, minuteOf } from "../src/time.js";
import { alerts, assertBuilt, pending, startService, status, waitWindowTicks } from "./support.js";

let redis: TestRedis;

beforeAll(async () => {
  assertBuilt();
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis.stop();
});

const INTERVAL_SEC = 0.2;

/** Wait until the service finished `n` more window recomputes. */
const waitTicks = (r: Redis, n: number) => waitWindowTicks(r, n, INTERVAL_SEC);

const summary = (xs: P35Alert[]) => xs.map((a) => `${a.reason}/${a.severity}/${a.window}`);

/** n gate results (p33_permit_denied, BLOCKED) in both producer formats, and n successes. */
function gate(n: number): Record<string, string>[] {
  const ts = Date.now() / 1000;
  return Array.from(
    { length: n },
    (_, i): Record<string, string> =>
      i % 2 === 0
        ? {
            symbol: "BTCUSDT",
            decision: "BLOCKED",
            executed: "False",
            reason: "p33_permit_denied",
            error: "p33_permit_denied",
            detail: "no_position",
            timestamp: ts.toFixed(3),
          }
        : {
            symbol: "ETHUSDT",
            executed: "False",
            details: '{"error":"p33_permit_denied: no_position"}',
            timestamp: String(Math.floor(ts * 1000)),
          },
  );
}
function ok(n: number): Record<string, string>[] {
  const ts = Date.now() / 1000;
  return Array.from({ length: n }, () => ({
    symbol: "SOLUSDT",
    decision: "EXECUTE",
    executed: "True",
    reason: "none",
    error: "",
    timestamp: ts.toFixed(3),
  }));
}

/**
 * Append all entries in one MULTI, so P3.5 (one batch up to P35_BATCH_SIZE, applied atomically) never counts
 * half of a step: the shares the windows see are exactly the steps' shares.
 */
async function feedAndDrain(r: Redis, entries: Record<string, string>[], expectTotal: number): Promise<void> {
  const tx = r.multi();
  for (const e of entries) tx.xadd(streams.applyResult, "*", ...Object.entries(e).flat());
  await tx.exec();
  await eventually(
    async () => (await status(r)).processed_total === String(expectTotal) && (await pending(r)) === 0,
  );
}

describe("P3.5.1 alerts (real process)", () => {
  it("45 %, 65 %, 85 % give MEDIUM, HIGH, CRITICAL once each; below the minimum nothing; none never; restart does not re-alert", async () => {
    const r = redis.client(1);
    const env = {
      P35_SNAPSHOT_INTERVAL_SEC: String(INTERVAL_SEC),
      P35_ALERT_MIN_TOTAL: "100",
      P35_ALERT_COOLDOWN: "300",
      P35_BATCH_SIZE: "2000",
      // the symbols here are all stuck (no EXECUTE): keep the stuck check away from them, it has its own test
      P35_ALLOWLIST: "ADAUSDT",
    };
    let svc = await startService(redis, 1, env);

    // 60 results, all p33_permit_denied: 100 % but below P35_ALERT_MIN_TOTAL → nothing
    await feedAndDrain(r, gate(60), 60);
    await waitTicks(r, 3);
    expect(await alerts(r)).toEqual([]);

    // + 140 successes: none is 70 % (never alerts), the gate 30 % (below MEDIUM) → nothing
    await feedAndDrain(r, ok(140), 200);
    await waitTicks(r, 3);
    expect(await alerts(r)).toEqual([]);

    // successes first, then gates, so the share only rises towards its target
    // 180 / 400 = 45 % → MEDIUM (and BLOCKED 45 % over 15m → blocked_rate_high)
    await feedAndDrain(r, [...ok(80), ...gate(120)], 400);
    await eventually(async () => summary(await alerts(r)).includes("p33_permit_denied/MEDIUM/5m"));
    await waitTicks(r, 5);
    // 520 / 800 = 65 % → HIGH
    await feedAndDrain(r, [...ok(60), ...gate(340)], 800);
    await eventually(async () => summary(await alerts(r)).includes("p33_permit_denied/HIGH/5m"));
    await waitTicks(r, 5);
    // 1700 / 2000 = 85 % → CRITICAL (and EXECUTE 15 % over 15m → execute_rate_low)
    await feedAndDrain(r, [...ok(20), ...gate(1180)], 2000);
    await eventually(async () => summary(await alerts(r)).includes("p33_permit_denied/CRITICAL/5m"));
    await waitTicks(r, 5);

    const got = await alerts(r);
    expect(summary(got).filter((s) => s.startsWith("p33_permit_denied/"))).toEqual([
      "p33_permit_denied/MEDIUM/5m",
      "p33_permit_denied/HIGH/5m",
      "p33_permit_denied/CRITICAL/5m",
    ]);
    expect(summary(got).sort()).toEqual(
      [
        "blocked_rate_high/HIGH/15m",
        "execute_rate_low/HIGH/15m",
        "p33_permit_denied/CRITICAL/5m",
        "p33_permit_denied/HIGH/5m",
        "p33_permit_denied/MEDIUM/5m",
      ].sort(),
    );
    expect(got.some((a) => a.reason === "none")).toBe(false);
    for (const a of got) {
      expect(a.total).toBeGreaterThanOrEqual(100);
      expect(a.share).toBeCloseTo(a.score / a.total, 4);
      expect(a.alertId).toBe(`p35_alert_${a.timestamp}_${a.reason}`);
    }
    const medium = got.find((a) => a.reason === "p33_permit_denied" && a.severity === "MEDIUM")!;
    expect(medium.share).toBeGreaterThanOrEqual(0.4);
    expect(medium.share).toBeLessThan(0.6);
    const critical = got.find((a) => a.severity === "CRITICAL")!;
    expect(critical).toMatchObject({ score: 1700, total: 2000, share: 0.85 });
    const ttl = await r.ttl(keys.p35AlertCooldown("p33_permit_denied", "CRITICAL"));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);

    const text = await scrapeMetrics(svc.port);
    expect(metricValue(text, "p35_alerts_total", { severity: "MEDIUM" })).toBe(1);
    expect(metricValue(text, "p35_alerts_total", { severity: "HIGH" })).toBe(3);
    expect(metricValue(text, "p35_alerts_total", { severity: "CRITICAL" })).toBe(1);

    // restart: the cooldowns live in Redis, so nothing is published again
    expect(await svc.proc.stop()).toBe(0);
    svc = await startService(redis, 1, env);
    await waitTicks(r, 5);
    expect(await alerts(r)).toHaveLength(got.length);
    expect(metricValue(await scrapeMetrics(svc.port), "p35_alerts_total")).toBe(0);
    expect(await svc.proc.stop()).toBe(0);
  });
});

describe("windows (real process)", () => {
  /** Expected decision counts of each window at UTC minute `cur` from buckets written by the test. */
  function expectedWindows(written: Map<number, Record<string, number>>, cur: number) {
    const out = {} as Record<P35Window, Record<string, string>>;
    for (const [w, n] of Object.entries(P35_WINDOWS) as Array<[P35Window, number]>) {
      const counts: Record<string, number> = {};
      for (const [m, decisions] of written) {
        if (m < cur - n || m > cur) continue;
        for (const [d, c] of Object.entries(decisions)) counts[d] = (counts[d] ?? 0) + c;
      }
      out[w] = Object.fromEntries(Object.entries(counts).map(([d, c]) => [d, String(c)]));
    }
    return out;
  }

  async function actualWindows(r: Redis) {
    const out = {} as Record<P35Window, Record<string, string>>;
    for (const w of Object.keys(P35_WINDOWS) as P35Window[])
      out[w] = await r.hgetall(keys.p35DecisionCounts(w));
    return out;
  }

  it("1m covers the previous complete minute + the current one; windows follow the buckets; emptied keys are deleted", async () => {
    const r = redis.client(2);
    const m0 = minuteOf(Date.now());
    const written = new Map<number, Record<string, number>>([
      [m0 - 1, { SKIP: 3 }],
      [m0 - 3, { BLOCKED: 5 }],
      [m0 - 30, { EXECUTE: 7 }],
      [m0 - 70, { ERROR: 100 }],
    ]);
    const reasonOf: Record<string, string> = {
      SKIP: "action_hold",
      BLOCKED: "kill_score_critical",
      EXECUTE: "none",
      ERROR: "internal_error",
    };
    const writeBucket = async (m: number, decisions: Record<string, number>) => {
      for (const [d, c] of Object.entries(decisions)) {
        await r.hincrby(keys.p35Bucket(bucketId(m)), `decision:${d}`, c);
        await r.hincrby(keys.p35Bucket(bucketId(m)), `reason:${reasonOf[d]}`, c);
      }
    };
    for (const [m, d] of written) await writeBucket(m, d);
    // stale snapshots of an earlier run
    for (const w of Object.keys(P35_WINDOWS)) {
      await r.hset(keys.p35DecisionCounts(w), "UNKNOWN", "42");
      await r.zadd(keys.p35ReasonTop(w), 42, "stale_reason");
    }

    const svc = await startService(redis, 2, { P35_SNAPSHOT_INTERVAL_SEC: String(INTERVAL_SEC) });
    const matches = async () => {
      const cur = minuteOf(Date.now());
      expect(await actualWindows(r)).toEqual(expectedWindows(written, cur));
      return cur;
    };
    const cur = await eventually(matches);
    if (cur === m0) {
      // the documented window, literally: 1m = previous complete minute + current (empty) minute
      expect(await r.hgetall(keys.p35DecisionCounts("1m"))).toEqual({ SKIP: "3" });
      expect(await r.hgetall(keys.p35DecisionCounts("5m"))).toEqual({ SKIP: "3", BLOCKED: "5" });
      expect(await r.zrevrange(keys.p35ReasonTop("5m"), 0, -1, "WITHSCORES")).toEqual([
        "kill_score_critical",
        "5",
        "action_hold",
        "3",
      ]);
      expect(await r.hgetall(keys.p35DecisionCounts("1h"))).toEqual({
        SKIP: "3",
        BLOCKED: "5",
        EXECUTE: "7",
      });
    }
    expect(await r.ttl(keys.p35DecisionCounts("1h"))).toBeGreaterThan(24 * 3600 - 60);

    // the current, partial minute counts too
    const now = minuteOf(Date.now());
    written.set(now, { EXECUTE: 2, ...(written.get(now) ?? {}) });
    await writeBucket(now, { EXECUTE: 2 });
    await eventually(matches);
    expect((await r.hgetall(keys.p35DecisionCounts("1m"))).EXECUTE).toBeDefined();

    // buckets expire → the 1m window is empty → its keys are deleted, not left stale for 24 h
    for (const m of [m0 - 1, now]) {
      await r.del(keys.p35Bucket(bucketId(m)));
      written.delete(m);
    }
    await eventually(matches);
    expect(await r.exists(keys.p35DecisionCounts("1m"), keys.p35ReasonTop("1m"))).toBe(0);
    expect(await r.exists(keys.p35DecisionCounts("1h"))).toBe(1);
    expect(await svc.proc.stop()).toBe(0);
  });
});
