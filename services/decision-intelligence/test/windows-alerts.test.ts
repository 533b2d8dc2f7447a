import { decodeP35Alert, keys, streams } from "@quantum/contracts";
import type { Redis } from "ioredis";
import { beforeEach, describe, expect, it } from "vitest";
import { type AlertRules, alertOf, evaluateAlerts, gateSeverity, raiseAlert } from "../src/alerts.js";
import { recomputeAllWindows } from "../src/symbol-windows.js";
import { bucketId, minuteOf } from "../src/time.js";
import {
  aggregateWindows,
  type BucketHash,
  TOP_REASONS,
  type WindowSnapshot,
  windowMinutes,
} from "../src/windows.js";
import { scriptedRedis } from "./support.js";

const NOW_MS = Date.UTC(2026, 1, 1, 7, 5, 30); // 07:05:30 UTC
const NOW_MIN = minuteOf(NOW_MS);
const rules: AlertRules = { thresholds: { medium: 0.4, high: 0.6, critical: 0.8 }, minTotal: 100 };

function snap(
  window: WindowSnapshot["window"],
  decisions: Record<string, number>,
  reasons: Record<string, number>,
) {
  const total = Object.values(decisions).reduce((a, b) => a + b, 0);
  const sorted = Object.entries(reasons)
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => b.count - a.count);
  return { window, minutes: 5, total, decisions, reasons: sorted };
}

describe("windows (pure)", () => {
  it("a window of n minutes is the current UTC minute plus the n previous complete ones", () => {
    expect(windowMinutes(NOW_MIN, 1)).toEqual([NOW_MIN - 1, NOW_MIN]);
    expect(windowMinutes(NOW_MIN, 60)).toHaveLength(61);
  });

  it("aggregates decisions and reasons per window from the buckets", () => {
    const buckets = new Map<number, BucketHash>([
      [NOW_MIN, { "decision:EXECUTE": "2", "reason:none": "2", "symbol_reason:BTCUSDT:none": "2" }],
      [NOW_MIN - 1, { "decision:SKIP": "3", "reason:action_hold": "3" }],
      [NOW_MIN - 2, { "decision:BLOCKED": "5", "reason:kill_score_critical": "5" }],
      [NOW_MIN - 15, { "decision:ERROR": "1", "reason:internal_error": "1" }],
      [NOW_MIN - 16, { "decision:ERROR": "4", "reason:internal_error": "4" }],
      [NOW_MIN - 61, { "decision:ERROR": "100", "reason:internal_error": "100" }],
    ]);
    const [w1, w5, w15, w1h] = aggregateWindows(buckets, NOW_MIN);
    expect(w1).toMatchObject({ window: "1m", total: 5, decisions: { EXECUTE: 2, SKIP: 3 } });
    expect(w1?.reasons).toEqual([
      { reason: "action_hold", count: 3 },
      { reason: "none", count: 2 },
    ]);
    expect(w5).toMatchObject({ window: "5m", total: 10, decisions: { EXECUTE: 2, SKIP: 3, BLOCKED: 5 } });
    expect(w15).toMatchObject({ window: "15m", total: 11 });
    expect(w1h).toMatchObject({ window: "1h", total: 15, decisions: { ERROR: 5 } });
  });
});

describe("alert rules (pure)", () => {
  it("severity by thresholds, inclusive", () => {
    const t = rules.thresholds;
    expect(gateSeverity(0.39, t)).toBeNull();
    expect(gateSeverity(0.4, t)).toBe("MEDIUM");
    expect(gateSeverity(0.6, t)).toBe("HIGH");
    expect(gateSeverity(0.8, t)).toBe("CRITICAL");
    expect(gateSeverity(1, t)).toBe("CRITICAL");
  });

  it("the top reason other than none in 5m, only from the minimum total", () => {
    const s = snap("5m", { BLOCKED: 65, EXECUTE: 35 }, { p33_permit_denied: 65, none: 35 });
    expect(evaluateAlerts([s], rules)).toEqual([
      { window: "5m", reason: "p33_permit_denied", score: 65, total: 100, share: 0.65, severity: "HIGH" },
    ]);
    const small = snap("5m", { BLOCKED: 65, EXECUTE: 34 }, { p33_permit_denied: 65, none: 34 });
    expect(evaluateAlerts([small], rules)).toEqual([]);
  });

  it("none never alerts, even at 100 %", () => {
    const s = snap("5m", { EXECUTE: 500 }, { none: 500 });
    expect(evaluateAlerts([s], rules)).toEqual([]);
    const s2 = snap("5m", { EXECUTE: 450, BLOCKED: 50 }, { none: 450, action_hold: 50 });
    expect(evaluateAlerts([s2], rules)).toEqual([]); // action_hold is 10 %
  });

  it("decision-mix rules of the action guide: execute low / blocked high over 15m, errors high over 5m", () => {
    const w15 = snap("15m", { EXECUTE: 15, SKIP: 40, BLOCKED: 45 }, { none: 15, action_hold: 40, x: 45 });
    const w5 = snap(
      "5m",
      { EXECUTE: 50, ERROR: 11, SKIP: 39 },
      { none: 50, internal_error: 11, action_hold: 39 },
    );
    const got = evaluateAlerts([w5, w15], rules).map((a) => [
      a.reason,
      a.window,
      a.severity,
      a.score,
      a.total,
    ]);
    expect(got).toEqual([
      ["execute_rate_low", "15m", "HIGH", 15, 100],
      ["blocked_rate_high", "15m", "HIGH", 45, 100],
      ["error_rate_high", "5m", "HIGH", 11, 100],
    ]);
    const healthy15 = snap("15m", { EXECUTE: 40, SKIP: 40, BLOCKED: 20 }, { none: 40, action_hold: 60 });
    const healthy5 = snap(
      "5m",
      { EXECUTE: 50, ERROR: 10, SKIP: 40 },
      { none: 50, internal_error: 10, hold: 20, wait: 20 },
    );
    expect(evaluateAlerts([healthy5, healthy15], rules)).toEqual([]);
  });

  it("the alert entry follows the roadmap schema", () => {
    const a = alertOf(
      { window: "5m", reason: "p33_permit_denied", score: 1234, total: 2000, share: 0.617, severity: "HIGH" },
      1769929500_900,
    );
    expect(a).toEqual({
      window: "5m",
      reason: "p33_permit_denied",
      score: 1234,
      total: 2000,
      share: 0.617,
      timestamp: 1769929500,
      severity: "HIGH",
      alertId: "p35_alert_1769929500_p33_permit_denied",
    });
  });
});

describe("windows and alerts against Redis", () => {
  const redis = scriptedRedis();
  let r: Redis;
  beforeEach(() => {
    r = redis.client();
  });

  it("writes counts and the top-50 ZSET with a 24 h TTL and deletes an empty window's keys", async () => {
    const hash: Record<string, string> = { "decision:BLOCKED": "600" };
    for (let i = 0; i < 60; i++) hash[`reason:gate_${String(i).padStart(2, "0")}`] = String(i + 1);
    await r.hset(keys.p35Bucket(bucketId(NOW_MIN - 3)), hash);
    await r.hset(keys.p35DecisionCounts("1m"), "SKIP", "99"); // stale, from an earlier run
    await r.zadd(keys.p35ReasonTop("1m"), 99, "stale");
    await recomputeAllWindows(r, NOW_MS, true);
    expect(await r.exists(keys.p35DecisionCounts("1m"), keys.p35ReasonTop("1m"))).toBe(0);
    expect(await r.hgetall(keys.p35DecisionCounts("5m"))).toEqual({ BLOCKED: "600" });
    const top = await r.zrevrange(keys.p35ReasonTop("5m"), 0, -1, "WITHSCORES");
    expect(top.length / 2).toBe(TOP_REASONS);
    expect(top.slice(0, 2)).toEqual(["gate_59", "60"]);
    expect(await r.ttl(keys.p35ReasonTop("1h"))).toBeGreaterThan(24 * 3600 - 10);
    expect(await r.ttl(keys.p35DecisionCounts("15m"))).toBeGreaterThan(24 * 3600 - 10);
  });

  it("raises an alert once per (reason, severity) per cooldown, kept in Redis", async () => {
    const c = {
      window: "5m",
      reason: "no_position",
      score: 45,
      total: 100,
      share: 0.45,
      severity: "MEDIUM",
    } as const;
    const first = await raiseAlert(r, c, { cooldownSec: 300, nowMs: NOW_MS });
    expect(first.published).toBe(true);
    expect((await raiseAlert(r, c, { cooldownSec: 300, nowMs: NOW_MS + 5000 })).published).toBe(false);
    expect((await raiseAlert(r, { ...c, severity: "HIGH" }, { cooldownSec: 300 })).published).toBe(true);
    const entries = await r.xrange(streams.p35Alerts, "-", "+");
    expect(entries).toHaveLength(2);
    const fields = Object.fromEntries(
      (entries[0]?.[1] ?? []).flatMap((v, i, a) => (i % 2 === 0 ? [[v, a[i + 1]]] : [])),
    );
    const decoded = decodeP35Alert(fields);
    expect(decoded.ok && decoded.value).toMatchObject({
      reason: "no_position",
      severity: "MEDIUM",
      share: 0.45,
    });
    const ttl = await r.ttl(keys.p35AlertCooldown("no_position", "MEDIUM"));
    expect(ttl).toBeGreaterThan(290);
    await r.del(keys.p35AlertCooldown("no_position", "MEDIUM")); // cooldown over
    expect((await raiseAlert(r, c, { cooldownSec: 300 })).published).toBe(true);
  });
});
