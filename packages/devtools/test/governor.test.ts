import {
  type ApplyPlan,
  decodeGovernorBlock,
  decodeGovernorPermit,
  encodeApplyPlan,
  keys,
  streams,
} from "@quantum/contracts";
import { createLogger } from "@quantum/runtime";
import { eventually, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevGovernor, governorVerdict, startDevGovernor } from "../src/index.js";

let redis: TestRedis;
let r: Redis;
let governor: DevGovernor;
const log = createLogger({ service: "dev-governor-test", level: "silent" });
let seq = 0;

function plan(symbol: string, over: Partial<ApplyPlan> = {}): ApplyPlan {
  seq++;
  return {
    planId: (0xa000000000000000n + BigInt(seq)).toString(16),
    symbol,
    action: "PARTIAL_50",
    killScore: 0.3,
    kRegimeFlip: 0,
    kSigmaSpike: 0,
    kTsDrop: 0,
    kAgePenalty: 0,
    newSlProposed: null,
    rNet: 0,
    decision: "EXECUTE",
    reasonCodes: [],
    steps: [],
    closeQty: "0.025",
    price: "60000.0",
    timestamp: Date.now() / 1000,
    reduceOnly: true,
    ...over,
  };
}

async function publish(p: ApplyPlan): Promise<string> {
  return (await r.xadd(streams.applyPlan, "*", ...Object.entries(encodeApplyPlan(p)).flat())) as string;
}

/** The governor group has read and acknowledged everything up to `id`. */
async function handledUpTo(id: string): Promise<boolean> {
  const [group] = (await r.xinfo("GROUPS", streams.applyPlan)) as string[][];
  const flat = group ?? [];
  const lastDelivered = flat[flat.indexOf("last-delivered-id") + 1];
  const pending = Number(flat[flat.indexOf("pending") + 1]);
  return lastDelivered === id && pending === 0;
}

beforeAll(async () => {
  redis = await startTestRedis();
  r = redis.client();
  governor = startDevGovernor({
    redis: redis.client(),
    blocking: redis.client(),
    logger: log,
    consumer: "gov-test",
    blockSymbols: ["ETHUSDT"],
    denySymbols: ["XRPUSDT"],
    startId: "0",
  });
});

afterAll(async () => {
  await governor?.stop();
  await redis?.stop();
});

describe("governorVerdict", () => {
  const rules = {
    blockSymbols: new Set(["ETHUSDT", "XRPUSDT"]),
    denySymbols: new Set(["XRPUSDT", "SOLUSDT"]),
  };
  it.each([
    ["EXECUTE", "BTCUSDT", "grant"],
    ["EXECUTE", "ETHUSDT", "block"],
    ["EXECUTE", "XRPUSDT", "block"],
    ["EXECUTE", "SOLUSDT", "deny"],
    ["SKIP", "ETHUSDT", "ignore"],
    ["BLOCKED", "BTCUSDT", "ignore"],
  ] as const)("%s %s → %s", (decision, symbol, verdict) => {
    expect(governorVerdict({ decision, symbol }, rules)).toBe(verdict);
  });
});

describe("dev governor on apply.plan (group governor)", () => {
  it("grants EXECUTE plans with computed_qty = close_qty, TTL 60 s", async () => {
    const p = plan("BTCUSDT");
    await publish(p);
    const raw = await eventually(async () => (await r.get(keys.governorPermit(p.planId))) ?? false);
    const permit = decodeGovernorPermit(raw);
    expect(permit.ok && permit.value).toMatchObject({
      granted: true,
      symbol: "BTCUSDT",
      decision: "EXECUTE",
      computedQty: "0.025",
      computedNotional: "1500",
      consumed: false,
    });
    const ttl = await r.ttl(keys.governorPermit(p.planId));
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it("blocks GOVERNOR_BLOCK_SYMBOLS with a block record and denies GOVERNOR_DENY_SYMBOLS", async () => {
    const blocked = plan("ETHUSDT");
    const denied = plan("XRPUSDT", { closeQty: null });
    await publish(blocked);
    await publish(denied);
    const block = await eventually(async () => (await r.get(keys.governorBlock(blocked.planId))) ?? false);
    const decoded = decodeGovernorBlock(block);
    expect(decoded.ok && decoded.value).toMatchObject({ reason: "dev_governor_block", symbol: "ETHUSDT" });
    expect(await r.exists(keys.governorPermit(blocked.planId))).toBe(0);
    const deny = decodeGovernorPermit(
      await eventually(async () => (await r.get(keys.governorPermit(denied.planId))) ?? false),
    );
    expect(deny.ok && deny.value).toMatchObject({
      granted: false,
      computedQty: null,
      computedNotional: null,
    });
  });

  it("ignores non-EXECUTE plans and never re-grants a consumed permit", async () => {
    const skip = plan("BTCUSDT", { decision: "SKIP", closeQty: null });
    const again = plan("BTCUSDT");
    await publish(skip);
    await publish(again);
    await eventually(async () => (await r.exists(keys.governorPermit(again.planId))) === 1);
    expect(await r.exists(keys.governorPermit(skip.planId))).toBe(0);
    // The Apply Layer consumed the permit; a redelivery of the plan does not write a fresh one (SET NX)...
    await r.set(keys.governorPermit(again.planId), "consumed-marker", "EX", 60);
    await publish(again);
    await eventually(async () => governor.counts.grant >= 3);
    expect(await r.get(keys.governorPermit(again.planId))).toBe("consumed-marker");
    expect(governor.counts.ignore).toBeGreaterThanOrEqual(1);
  });

  it("answers nothing while the Apply Layer reports production mode", async () => {
    await r.hset(keys.serviceStatus("apply-layer"), { service: "apply-layer", mode: "production" });
    try {
      const p = plan("BTCUSDT");
      const id = await publish(p);
      await eventually(() => handledUpTo(id));
      expect(await r.exists(keys.governorPermit(p.planId))).toBe(0);
    } finally {
      await r.del(keys.serviceStatus("apply-layer"));
    }
  });
});
