import { keys } from "@quantum/contracts";
import { createP35Metrics, createServiceRegistry } from "@quantum/metrics";
import { createLogger } from "@quantum/runtime";
import type { Redis } from "ioredis";
import { beforeEach, describe, expect, it } from "vitest";
import { findStuck, StuckDetector } from "../src/stuck-detector.js";
import { aggregateSymbols, aggregateSymbolWindows, recomputeAllWindows } from "../src/symbol-windows.js";
import { bucketId, minuteOf } from "../src/time.js";
import { type BucketHash, readBuckets, windowMinutes } from "../src/windows.js";
import { alerts, scriptedRedis } from "./support.js";

const NOW_MS = Date.UTC(2026, 1, 1, 7, 5, 30);
const NOW_MIN = minuteOf(NOW_MS);
const log = createLogger({ service: "p35-test", level: "silent" });

/** Bucket fields of `n` results of one symbol. */
function fieldsOf(symbol: string, decision: string, reason: string, n: number): BucketHash {
  return {
    [`decision:${decision}`]: String(n),
    [`reason:${reason}`]: String(n),
    [`symbol_decision:${symbol}:${decision}`]: String(n),
    [`symbol_reason:${symbol}:${reason}`]: String(n),
  };
}

function merge(...hashes: BucketHash[]): BucketHash {
  const out: Record<string, string> = {};
  for (const h of hashes)
    for (const [k, v] of Object.entries(h)) out[k] = String(Number(out[k] ?? 0) + Number(v));
  return out;
}

describe("per-symbol windows (pure)", () => {
  const buckets = new Map<number, BucketHash>([
    [
      NOW_MIN,
      merge(
        fieldsOf("BTCUSDT", "BLOCKED", "p33_permit_denied", 2),
        fieldsOf("ETHUSDT", "EXECUTE", "none", 1),
      ),
    ],
    [NOW_MIN - 15, fieldsOf("BTCUSDT", "SKIP", "permit_timeout_or_missing:missing_p33", 3)],
    [NOW_MIN - 16, fieldsOf("SOLUSDT", "EXECUTE", "none", 4)],
    // another writer: reasons without per-symbol decisions
    [NOW_MIN - 30, { "symbol_reason:XRPUSDT:kill_score_critical": "5" }],
  ]);

  it("15m covers the current minute and 15 before it, 1h the current one and 60 before it", () => {
    const [m15, h1] = aggregateSymbolWindows(buckets, NOW_MIN);
    expect(m15?.window).toBe("15m");
    expect([...(m15?.symbols.keys() ?? [])].sort()).toEqual(["BTCUSDT", "ETHUSDT"]);
    const btc = m15?.symbols.get("BTCUSDT");
    expect(btc?.total).toBe(5);
    expect(Object.fromEntries(btc?.decisions ?? [])).toEqual({ BLOCKED: 2, SKIP: 3 });
    expect(Object.fromEntries(btc?.reasons ?? [])).toEqual({
      p33_permit_denied: 2,
      "permit_timeout_or_missing:missing_p33": 3,
    });
    expect([...(h1?.symbols.keys() ?? [])].sort()).toEqual(["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"]);
    expect(h1?.symbols.get("XRPUSDT")?.total).toBe(5);
  });

  it("a symbol is stuck with >= minPlans results and no EXECUTE; its reason is the dominant gate", () => {
    const table = aggregateSymbols(
      new Map([
        [
          NOW_MIN,
          merge(
            fieldsOf("BTCUSDT", "BLOCKED", "kill_score_critical", 2),
            fieldsOf("ETHUSDT", "BLOCKED", "x_gate", 2),
          ),
        ],
        [
          NOW_MIN - 3,
          merge(
            fieldsOf("BTCUSDT", "SKIP", "action_hold", 2),
            fieldsOf("SOLUSDT", "BLOCKED", "p33_permit_denied", 9),
          ),
        ],
        [
          NOW_MIN - 4,
          merge(
            fieldsOf("SOLUSDT", "EXECUTE", "none", 1),
            fieldsOf("DOGEUSDT", "BLOCKED", "p33_permit_denied", 9),
          ),
        ],
      ]),
      windowMinutes(NOW_MIN, 15),
    );
    const rules = { minutes: 15, minPlans: 3, allowlist: ["SOLUSDT", "ETHUSDT", "BTCUSDT"] };
    // ETHUSDT: 2 < minPlans; SOLUSDT executed once; DOGEUSDT not allowlisted; BTCUSDT tie → name order
    expect(findStuck(table, rules)).toEqual([
      {
        window: "stuck",
        reason: "action_hold",
        score: 2,
        total: 4,
        share: 0.5,
        severity: "HIGH",
        symbol: "BTCUSDT",
      },
    ]);
    expect(findStuck(table, { ...rules, minPlans: 2 }).map((c) => c.symbol)).toEqual(["BTCUSDT", "ETHUSDT"]);
  });
});

describe("per-symbol windows and the stuck check against Redis", () => {
  const redis = scriptedRedis();
  let r: Redis;
  beforeEach(() => {
    r = redis.client();
  });

  it("replaces the per-symbol hashes with the other windows, with a TTL, and deletes them when empty", async () => {
    await r.hset(
      keys.p35Bucket(bucketId(NOW_MIN - 20)),
      fieldsOf("BTCUSDT", "BLOCKED", "p33_permit_denied", 4),
    );
    await r.hset(keys.p35Bucket(bucketId(NOW_MIN - 1)), fieldsOf("ETHUSDT", "EXECUTE", "none", 2));
    await r.hset(keys.p35SymbolDecisionCounts("15m"), "DOGEUSDT:SKIP", "7"); // stale, from an earlier run
    await recomputeAllWindows(r, NOW_MS, true);
    expect(await r.hgetall(keys.p35SymbolDecisionCounts("15m"))).toEqual({ "ETHUSDT:EXECUTE": "2" });
    expect(await r.hgetall(keys.p35SymbolReasonCounts("15m"))).toEqual({ "ETHUSDT:none": "2" });
    expect(await r.hgetall(keys.p35SymbolDecisionCounts("1h"))).toEqual({
      "ETHUSDT:EXECUTE": "2",
      "BTCUSDT:BLOCKED": "4",
    });
    expect(await r.hgetall(keys.p35SymbolReasonCounts("1h"))).toEqual({
      "ETHUSDT:none": "2",
      "BTCUSDT:p33_permit_denied": "4",
    });
    expect(await r.ttl(keys.p35SymbolReasonCounts("1h"))).toBeGreaterThan(24 * 3600 - 10);
    // two hours later every window is empty: the keys are gone
    await recomputeAllWindows(r, NOW_MS + 2 * 3600_000, true);
    expect(
      await r.exists(
        keys.p35SymbolDecisionCounts("15m"),
        keys.p35SymbolReasonCounts("15m"),
        keys.p35SymbolDecisionCounts("1h"),
        keys.p35SymbolReasonCounts("1h"),
      ),
    ).toBe(0);
  });

  it("alerts once per stuck symbol per cooldown, even when it is stuck again after executing", async () => {
    const registry = createServiceRegistry({
      service: "decision-intelligence",
      mode: "analytics",
      version: "t",
    });
    const metrics = createP35Metrics(registry);
    const detector = new StuckDetector({
      redis: r,
      rules: { minutes: 15, minPlans: 3, allowlist: ["BTCUSDT", "ETHUSDT"] },
      cooldownSec: 300,
      metrics,
      logger: log,
    });
    const gauge = async (symbol: string) =>
      (await metrics.symbolStuck.get()).values.find((v) => v.labels.symbol === symbol)?.value;
    const check = async (nowMs: number) =>
      detector.check(await readBuckets(r, minuteOf(nowMs)), minuteOf(nowMs), nowMs);

    for (let m = 14; m >= 0; m--) {
      await r.hset(
        keys.p35Bucket(bucketId(NOW_MIN - m)),
        merge(
          fieldsOf("BTCUSDT", "BLOCKED", m % 3 === 0 ? "kill_score_critical" : "p33_permit_denied", 1),
          m < 2 ? fieldsOf("ETHUSDT", "BLOCKED", "p33_permit_denied", 1) : {},
        ),
      );
    }
    expect(await gauge("BTCUSDT")).toBe(0);
    await check(NOW_MS);
    await check(NOW_MS + 10_000);
    expect(await gauge("BTCUSDT")).toBe(1);
    expect(await gauge("ETHUSDT")).toBe(0);
    const first = await alerts(r);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({
      window: "stuck",
      symbol: "BTCUSDT",
      reason: "p33_permit_denied",
      score: 10,
      total: 15,
      severity: "HIGH",
    });
    expect(await r.ttl(keys.p35StuckCooldown("BTCUSDT"))).toBeGreaterThan(290);

    // one EXECUTE clears it
    await r.hset(keys.p35Bucket(bucketId(NOW_MIN + 1)), fieldsOf("BTCUSDT", "EXECUTE", "none", 1));
    await check(NOW_MS + 60_000);
    expect(await gauge("BTCUSDT")).toBe(0);
    // stuck again once the EXECUTE left the span, but still within the cooldown: no second alert
    for (let m = 2; m <= 20; m++) {
      await r.hset(
        keys.p35Bucket(bucketId(NOW_MIN + m)),
        fieldsOf("BTCUSDT", "BLOCKED", "p33_permit_denied", 1),
      );
    }
    await check(NOW_MS + 20 * 60_000 - 10_000);
    expect(await gauge("BTCUSDT")).toBe(1);
    expect(await alerts(r)).toHaveLength(1);
  });
});
