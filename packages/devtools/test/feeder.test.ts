import { decodeHarvestProposal, keys, streams } from "@quantum/contracts";
import { startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_FEEDER_SYMBOLS,
  feederTick,
  mulberry32,
  nextProposal,
  onTick,
  pickKillScore,
} from "../src/index.js";

let redis: TestRedis;
let r: Redis;

beforeAll(async () => {
  redis = await startTestRedis();
  r = redis.client();
});
afterAll(async () => {
  await redis?.stop();
});

describe("proposal mix", () => {
  it("is deterministic for a seed", () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const now = new Date("2026-02-01T06:50:00Z");
    expect(nextProposal("BTCUSDT", "0.05", "60000", a, now)).toEqual(
      nextProposal("BTCUSDT", "0.05", "60000", b, now),
    );
  });

  it("shows every action and every kill-score band, mostly low scores", () => {
    const rng = mulberry32(42);
    const now = new Date("2026-02-01T06:50:00Z");
    const actions = new Map<string, number>();
    const bands = { low: 0, warning: 0, critical: 0 };
    for (let i = 0; i < 1000; i++) {
      const p = nextProposal("BTCUSDT", "0.05", "60000", rng, now);
      actions.set(p.action, (actions.get(p.action) ?? 0) + 1);
      if (p.killScore >= 0.8) bands.critical++;
      else if (p.killScore >= 0.6) bands.warning++;
      else bands.low++;
      if (p.action === "UPDATE_SL") expect(p.newSlProposed).toBeCloseTo(58800, -1);
      else expect(p.newSlProposed).toBeNull();
    }
    expect([...actions.keys()].sort()).toEqual([
      "FULL_CLOSE_PROPOSED",
      "HOLD",
      "PARTIAL_50",
      "PARTIAL_75",
      "UPDATE_SL",
    ]);
    const closes =
      (actions.get("PARTIAL_50") ?? 0) +
      (actions.get("PARTIAL_75") ?? 0) +
      (actions.get("FULL_CLOSE_PROPOSED") ?? 0);
    expect(closes).toBeGreaterThan(500);
    expect(bands.low).toBeGreaterThan(650);
    expect(bands.warning).toBeGreaterThan(80);
    expect(bands.critical).toBeGreaterThan(50);
  });

  it("kill scores stay in [0, 1) with 6 decimals; prices land on the tick", () => {
    const rng = mulberry32(1);
    for (let i = 0; i < 200; i++) {
      const k = pickKillScore(rng);
      expect(k).toBeGreaterThanOrEqual(0);
      expect(k).toBeLessThan(1);
      expect(Math.round(k * 1e6) / 1e6).toBe(k);
    }
    expect(onTick("60000.04", "BTCUSDT")).toBe("60000.0");
    expect(onTick("0.600049", "XRPUSDT")).toBe("0.6000");
  });
});

describe("feederTick", () => {
  it("seeds flat paper positions, moves marks and writes fresh decodable proposals", async () => {
    const symbols = [DEFAULT_FEEDER_SYMBOLS.BTCUSDT, DEFAULT_FEEDER_SYMBOLS.SOLUSDT].filter(
      (s) => s !== undefined,
    );
    const rng = mulberry32(3);
    const first = await feederTick(r, { symbols, rng, now: new Date("2026-02-01T06:50:00Z"), stream: true });
    expect(first.seeded).toEqual(["BTCUSDT", "SOLUSDT"]);
    const btc = await r.hgetall(keys.paperPosition("BTCUSDT"));
    expect(["0.050", "-0.050"]).toContain(btc.position_amt);
    const hash = await r.hgetall(keys.harvestProposal("BTCUSDT"));
    const decoded = decodeHarvestProposal(hash, "BTCUSDT");
    expect(decoded.ok && decoded.value.computedAtUtc).toBe("2026-02-01T06:50:00Z");
    expect(await r.xlen(streams.harvestProposal)).toBe(2);

    const second = await feederTick(r, { symbols, rng, now: new Date("2026-02-01T06:50:10Z") });
    expect(second.seeded).toEqual([]);
    const again = decodeHarvestProposal(await r.hgetall(keys.harvestProposal("BTCUSDT")), "BTCUSDT");
    expect(again.ok && again.value.computedAtUtc).toBe("2026-02-01T06:50:10Z");
    expect(await r.hget(keys.paperPosition("BTCUSDT"), "position_amt")).toBe(btc.position_amt);
    const mark = Number(await r.hget(keys.paperPosition("BTCUSDT"), "mark_price"));
    expect(Math.abs(mark - 60000)).toBeLessThan(60000 * 0.005);

    await r.hset(keys.paperPosition("SOLUSDT"), "position_amt", "0");
    const third = await feederTick(r, { symbols, rng });
    expect(third.seeded).toEqual(["SOLUSDT"]);
  });

  it("records a re-opened position in the P3.3 ledger so later plans are not side mismatches", async () => {
    const sol = DEFAULT_FEEDER_SYMBOLS.SOLUSDT;
    if (sol === undefined) throw new Error("SOLUSDT missing from the feeder defaults");
    // the ledger says flat after a full close; the feeder re-opens the position
    await r.hset(keys.positionLedger("SOLUSDT"), { last_known_amt: "0", source: "p33" });
    await r.hset(keys.paperPosition("SOLUSDT"), "position_amt", "0");
    const tick = await feederTick(r, { symbols: [sol], rng: mulberry32(11) });
    expect(tick.seeded).toEqual(["SOLUSDT"]);
    const paperAmt = await r.hget(keys.paperPosition("SOLUSDT"), "position_amt");
    const ledger = await r.hgetall(keys.positionLedger("SOLUSDT"));
    expect(ledger.last_known_amt).toBe(paperAmt);
    expect(ledger.source).toBe("demo_feeder");
  });
});
