import { keys, p35DayId } from "@quantum/contracts";
import { createP35Metrics, createServiceRegistry } from "@quantum/metrics";
import { createLogger } from "@quantum/runtime";
import type { Redis } from "ioredis";
import { beforeEach, describe, expect, it } from "vitest";
import { DayRollups, dayStartMs, dayToRollUp, ROLLUP_META, rollupDay } from "../src/day-rollups.js";
import { bucketId, minuteOf } from "../src/time.js";
import { scriptedRedis } from "./support.js";

/** Two days ago (UTC): the rollup's retention is counted from the end of its day, so the day must be recent. */
const DAY_START = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 2 * 86_400_000;
const DAY = p35DayId(DAY_START);
const log = createLogger({ service: "p35-test", level: "silent" });

describe("day ids", () => {
  it("accepts real UTC days only", () => {
    expect(dayStartMs("20260131")).toBe(Date.UTC(2026, 0, 31));
    expect(dayStartMs("20260230")).toBeNull();
    expect(dayStartMs("2026013")).toBeNull();
  });

  it("rolls up the day that ended once the grace after midnight has passed", () => {
    expect(dayToRollUp(Date.UTC(2026, 1, 1, 0, 1, 0))).toBe("20260130");
    expect(dayToRollUp(Date.UTC(2026, 1, 1, 0, 2, 0))).toBe("20260131");
    expect(dayToRollUp(Date.UTC(2026, 1, 1, 23, 59, 0))).toBe("20260131");
  });
});

describe("rollupDay against Redis", () => {
  const redis = scriptedRedis();
  let r: Redis;
  beforeEach(() => {
    r = redis.client();
  });

  /** Buckets at the first and last minute of DAY and in the minutes around it; returns DAY's sums. */
  async function writeDay(): Promise<Record<string, string>> {
    const first = minuteOf(DAY_START);
    const put = (m: number, h: Record<string, string>) => r.hset(keys.p35Bucket(bucketId(m)), h);
    await put(first - 1, { "decision:SKIP": "100" }); // the day before
    await put(first, {
      "decision:BLOCKED": "3",
      "reason:p33_permit_denied": "3",
      "symbol_decision:BTCUSDT:BLOCKED": "3",
    });
    await put(first + 700, { "decision:BLOCKED": "2", "decision:EXECUTE": "1", "reason:none": "1" });
    await put(first + 1439, { "decision:EXECUTE": "4", "symbol_reason:ETHUSDT:none": "4" });
    await put(first + 1440, { "decision:EXECUTE": "100" }); // the day after
    return {
      "decision:BLOCKED": "5",
      "decision:EXECUTE": "5",
      "reason:p33_permit_denied": "3",
      "reason:none": "1",
      "symbol_decision:BTCUSDT:BLOCKED": "3",
      "symbol_reason:ETHUSDT:none": "4",
      [ROLLUP_META.buckets]: "3",
    };
  }

  it("sums exactly the day's buckets, once, with the retention counted from the end of the day", async () => {
    const expected = await writeDay();
    const nowMs = DAY_START + 86_400_000 + 300_000;
    const out = await rollupDay(r, DAY, { retentionDays: 90, writer: "w1", nowMs });
    expect(out).toEqual({ written: true, buckets: 3, fields: 9 });
    const {
      [ROLLUP_META.writtenAt]: at,
      [ROLLUP_META.writtenBy]: by,
      ...counts
    } = await r.hgetall(keys.p35Day(DAY));
    expect(counts).toEqual(expected);
    expect(by).toBe("w1");
    expect(Number(at)).toBe(nowMs / 1000);
    expect(await r.expiretime(keys.p35Day(DAY))).toBe((DAY_START + 91 * 86_400_000) / 1000);
    // a new bucket after the rollup does not change it
    await r.hset(keys.p35Bucket(bucketId(minuteOf(DAY_START) + 5)), "decision:SKIP", "9");
    expect(await rollupDay(r, DAY, { retentionDays: 90, writer: "w2" })).toEqual({
      written: false,
      reason: "exists",
    });
    expect(await r.hget(keys.p35Day(DAY), ROLLUP_META.writtenBy)).toBe("w1");
    expect(await r.hget(keys.p35Day(DAY), "decision:SKIP")).toBeNull();
  });

  it("of eight concurrent writers exactly one writes", async () => {
    const expected = await writeDay();
    const clients = Array.from({ length: 8 }, () => redis.newClient());
    const outs = await Promise.all(
      clients.map((c, i) => rollupDay(c, DAY, { retentionDays: 90, writer: `w${i}` })),
    );
    expect(outs.filter((o) => o.written)).toHaveLength(1);
    const {
      [ROLLUP_META.writtenAt]: _at,
      [ROLLUP_META.writtenBy]: _by,
      ...counts
    } = await r.hgetall(keys.p35Day(DAY));
    expect(counts).toEqual(expected);
    await Promise.all(clients.map((c) => c.quit()));
  });

  it("a day already past its retention is not written", async () => {
    await writeDay();
    expect(await rollupDay(r, DAY, { retentionDays: 1, writer: "w" })).toEqual({
      written: false,
      reason: "expired",
    });
    expect(await r.exists(keys.p35Day(DAY))).toBe(0);
  });

  it("a day without buckets: nothing on demand, an empty rollup from the automatic one", async () => {
    expect(await rollupDay(r, DAY, { retentionDays: 90, writer: "w" })).toEqual({
      written: false,
      reason: "no_buckets",
    });
    const metrics = createP35Metrics(
      createServiceRegistry({ service: "decision-intelligence", mode: "a", version: "t" }),
    );
    const auto = new DayRollups({ redis: r, retentionDays: 7, writer: "auto", metrics, logger: log });
    await auto.tick(DAY_START + 86_400_000 + 180_000);
    await auto.tick(DAY_START + 86_400_000 + 190_000);
    expect(await r.hgetall(keys.p35Day(DAY))).toMatchObject({
      [ROLLUP_META.buckets]: "0",
      [ROLLUP_META.writtenBy]: "auto",
    });
    expect((await metrics.dayRollups.get()).values[0]?.value).toBe(1);
  });
});
