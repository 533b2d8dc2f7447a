import { keys, p35DayId } from "@quantum/contracts";
import { startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireBuiltCli, runCtl } from "./helpers.js";

let redis: TestRedis;
let r: Redis;
let url: string;
const DAY_MS = 86_400_000;

beforeAll(async () => {
  requireBuiltCli();
  redis = await startTestRedis();
  r = redis.client();
  url = redis.url(0);
});
afterAll(async () => {
  await redis.stop();
});

/** A day rollup as P3.5 writes it (per-symbol and meta fields must not count twice). */
function rollup(
  execute: number,
  skip: number,
  blocked: number,
  gates: Record<string, number>,
): Record<string, string> {
  const h: Record<string, string> = {
    "decision:EXECUTE": String(execute),
    "decision:SKIP": String(skip),
    "decision:BLOCKED": String(blocked),
    "reason:none": String(execute),
    "symbol_decision:BTCUSDT:EXECUTE": String(execute),
    "symbol_reason:BTCUSDT:none": String(execute),
    "meta:buckets": "1440",
    "meta:written_by": "p35-test",
  };
  for (const [g, n] of Object.entries(gates)) h[`reason:${g}`] = String(n);
  return h;
}

describe("quantumctl trend (14 rollups)", () => {
  it("prints the week-over-week change of the decision mix and the top gates (text and --json)", async () => {
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const day = (ago: number) => p35DayId(today - ago * DAY_MS);
    for (let ago = 14; ago >= 8; ago--) {
      await r.hset(keys.p35Day(day(ago)), rollup(30, 50, 20, { action_hold: 50, p33_permit_denied: 20 }));
    }
    for (let ago = 7; ago >= 1; ago--) {
      if (ago === 3) continue; // a day without a rollup
      await r.hset(
        keys.p35Day(day(ago)),
        rollup(10, 40, 50, { action_hold: 40, p33_permit_denied: 30, kill_score_critical: 20 }),
      );
    }
    await r.hset(keys.p35Day(day(0)), rollup(999, 0, 0, {})); // today (partial): never counted
    await r.hset(keys.p35Day(day(15)), rollup(0, 0, 999, { kill_score_critical: 999 })); // before the periods

    const json = await runCtl(["trend", "--json", "--redis-url", url]);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.days).toBe(7);
    expect(doc.current).toEqual({
      from: day(7),
      to: day(1),
      daysWithRollup: 6,
      missingDays: [day(3)],
      total: 600,
    });
    expect(doc.previous).toEqual({
      from: day(14),
      to: day(8),
      daysWithRollup: 7,
      missingDays: [],
      total: 700,
    });
    expect(doc.decisions).toEqual([
      {
        decision: "EXECUTE",
        current: { count: 60, pct: 10 },
        previous: { count: 210, pct: 30 },
        changePp: -20,
        countChangePct: -71.43,
      },
      {
        decision: "SKIP",
        current: { count: 240, pct: 40 },
        previous: { count: 350, pct: 50 },
        changePp: -10,
        countChangePct: -31.43,
      },
      {
        decision: "BLOCKED",
        current: { count: 300, pct: 50 },
        previous: { count: 140, pct: 20 },
        changePp: 30,
        countChangePct: 114.29,
      },
    ]);
    expect(doc.gates).toEqual([
      {
        reason: "action_hold",
        current: { count: 240, pct: 40 },
        previous: { count: 350, pct: 50 },
        changePp: -10,
        countChangePct: -31.43,
      },
      {
        reason: "p33_permit_denied",
        current: { count: 180, pct: 30 },
        previous: { count: 140, pct: 20 },
        changePp: 10,
        countChangePct: 28.57,
      },
      {
        reason: "kill_score_critical",
        current: { count: 120, pct: 20 },
        previous: { count: 0, pct: 0 },
        changePp: 20,
        countChangePct: null,
      },
    ]);

    const text = await runCtl(["trend", "--redis-url", url]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      `last 7 days (${day(7)}..${day(1)}) vs the 7 before (${day(14)}..${day(8)})`,
    );
    expect(text.stdout).toContain("results 600 vs 700; daily rollups 6/7 and 7/7");
    expect(text.stdout).toContain(`no rollup for ${day(3)}`);
    expect(text.stdout).toMatch(/EXECUTE\s+60\s+10\.0%\s+210\s+30\.0%\s+-20\.00 pp\s+-71\.43%/);
    expect(text.stdout).toMatch(/BLOCKED\s+300\s+50\.0%\s+140\s+20\.0%\s+\+30\.00 pp\s+\+114\.29%/);
    expect(text.stdout).toMatch(/kill_score_critical\s+120\s+20\.0%\s+0\s+0\.0%\s+\+20\.00 pp\s+new/);

    // --days 1: yesterday against the day before
    const one = JSON.parse((await runCtl(["trend", "--days", "1", "--json", "--redis-url", url])).stdout);
    expect(one.current.total).toBe(100);
    expect(one.previous).toMatchObject({ daysWithRollup: 1, total: 100 });
    expect(one.decisions.every((d: { changePp: number }) => d.changePp === 0)).toBe(true);
    expect((await runCtl(["trend", "--days", "0", "--redis-url", url])).code).toBe(2);
    expect((await runCtl(["trend", "--days", "1.5", "--redis-url", url])).code).toBe(2);
  });
});
