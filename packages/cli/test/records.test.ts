import {
  decodeGovernorPermit,
  encodeApplyPlan,
  encodeExecRecord,
  encodeP33Permit,
  encodePaperPosition,
  encodePositionLedger,
  encodePositionSnapshot,
  encodePositionView,
  keys,
  recordToFields,
  streams,
} from "@quantum/contracts";
import { startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ledgerSet, ledgerShow, positionShow } from "../src/commands/ledger.js";
import { permitGrant, permitShow } from "../src/commands/permit.js";
import { UsageError } from "../src/errors/usage-error.js";
import { renderLedgerSet, renderPermitShow, renderPosition } from "../src/render/records.js";
import { createStyle } from "../src/render/style.js";
import { writeServiceStatus } from "./helpers.js";

const plain = createStyle(false);
const PLAN = "ba3cbf84bf17f3a2";
let redis: TestRedis;
let r: Redis;

beforeAll(async () => {
  redis = await startTestRedis();
  r = redis.client();
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  await r.flushdb();
});

async function writePlan(planId: string, symbol: string): Promise<void> {
  const fields = encodeApplyPlan({
    planId,
    symbol,
    action: "FULL_CLOSE_PROPOSED",
    killScore: 0.31,
    kRegimeFlip: 0,
    kSigmaSpike: 0,
    kTsDrop: 0,
    kAgePenalty: 0,
    newSlProposed: 0,
    rNet: 0,
    decision: "EXECUTE",
    reasonCodes: [],
    steps: [],
    closeQty: null,
    price: null,
    timestamp: 1769929500,
    reduceOnly: true,
  });
  await r.xadd(streams.applyPlan, "*", ...recordToFields(fields));
}

describe("permit show", () => {
  it("decodes both permits, the block and the execution record, with TTLs", async () => {
    await r.set(
      keys.p33Permit(PLAN),
      encodeP33Permit({
        allow: true,
        symbol: "BTCUSDT",
        safeQty: "0.062",
        exchangePositionAmt: "0.062",
        ledgerAmt: "0.062",
        createdAt: 1769929500,
        reason: "sanity_checks_passed",
        venue: null,
        positionSide: "BOTH",
        ledgerResultPlanId: null,
        snapshotTs: null,
      }),
      "EX",
      60,
    );
    await r.set(keys.governorPermit(PLAN), "{not json", "EX", 30);
    await r.hset(
      keys.execRecord(PLAN),
      encodeExecRecord({
        state: "CLAIMED",
        planId: PLAN,
        symbol: "BTCUSDT",
        createdAt: 1769929500,
        resultPublished: false,
      }),
    );
    const s = await permitShow(r, PLAN.toUpperCase());
    expect(s.planId).toBe(PLAN);
    expect(s.p33Permit.decoded).toMatchObject({ allow: true, safeQty: "0.062" });
    expect(s.p33Permit.ttlMs).toBeGreaterThan(55_000);
    expect(s.governorPermit.present).toBe(true);
    expect(s.governorPermit.decoded).toBeNull();
    expect(s.governorPermit.decodeError).toMatch(/invalid JSON/);
    expect(s.governorBlock.present).toBe(false);
    expect(s.execRecord.decoded).toMatchObject({ state: "CLAIMED", symbol: "BTCUSDT" });
    expect(s.execRecord.ttlMs).toBeNull();
    const text = renderPermitShow(s, plain);
    expect(text).toContain("does not decode");
    expect(text).toContain("governor block: absent");
  });

  it("rejects a malformed plan id", async () => {
    await expect(permitShow(r, "xyz")).rejects.toThrow(UsageError);
  });
});

describe("permit grant", () => {
  beforeEach(async () => {
    await writeServiceStatus(r, "apply-layer", { mode: "paper", venue: "paper" });
  });

  it("writes a decodable Governor permit with EX 60, symbol from apply.plan", async () => {
    await writePlan(PLAN, "ETHUSDT");
    const g = await permitGrant(r, PLAN, { by: "ops", qty: "0.5", nowMs: 1_769_929_500_000 });
    expect(g.symbolSource).toBe("apply.plan");
    const raw = await r.get(keys.governorPermit(PLAN));
    const d = decodeGovernorPermit(raw);
    expect(d.ok && d.value).toEqual({
      granted: true,
      symbol: "ETHUSDT",
      decision: "EXECUTE",
      computedQty: "0.5",
      computedNotional: null,
      createdAt: 1769929500,
      consumed: false,
    });
    const ttl = await r.ttl(keys.governorPermit(PLAN));
    expect(ttl).toBeGreaterThan(55);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(g.replaced).toBeNull();
    const again = await permitGrant(r, PLAN, { by: "ops", symbol: "ethusdt" });
    expect(again.symbolSource).toBe("option");
    expect(again.replaced).toBe(raw);
  });

  it("takes the symbol from the P3.3 permit and warns about an existing execution record", async () => {
    await r.set(
      keys.p33Permit(PLAN),
      encodeP33Permit({ allow: false, symbol: "SOLUSDT", reason: "no_position", context: {}, createdAt: 1 }),
    );
    await r.hset(
      keys.execRecord(PLAN),
      encodeExecRecord({
        state: "FILLED",
        planId: PLAN,
        symbol: "SOLUSDT",
        createdAt: 1,
        resultPublished: true,
      }),
    );
    const g = await permitGrant(r, PLAN, { by: "ops" });
    expect(g.permit.symbol).toBe("SOLUSDT");
    expect(g.symbolSource).toBe("p33 permit");
    expect(g.warnings.join(" ")).toContain("state FILLED");
  });

  it("needs --symbol when the plan cannot be found, and validates --qty", async () => {
    await expect(permitGrant(r, PLAN, { by: "ops" })).rejects.toThrow(/pass --symbol/);
    await expect(permitGrant(r, PLAN, { by: "ops", symbol: "BTCUSDT", qty: "-1" })).rejects.toThrow(
      UsageError,
    );
    await expect(permitGrant(r, PLAN, { by: "ops", symbol: "BTCUSDT", qty: "1e3" })).rejects.toThrow(
      UsageError,
    );
    expect(await r.exists(keys.governorPermit(PLAN))).toBe(0);
  });

  it("is REFUSED unless a live service reports a non-production mode: flag, production, none or stale", async () => {
    const refused = async () => {
      const err = await permitGrant(r, PLAN, { by: "ops", symbol: "BTCUSDT" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).code).toBe("refused_in_production");
      expect(await r.exists(keys.governorPermit(PLAN))).toBe(0);
    };
    const flagged = await permitGrant(r, PLAN, { by: "ops", symbol: "BTCUSDT", production: true }).catch(
      (e: unknown) => e,
    );
    expect((flagged as UsageError).code).toBe("refused_in_production");
    await writeServiceStatus(r, "apply-layer", { mode: "production", venue: "production" });
    await refused();
    await r.flushdb();
    await writeServiceStatus(r, "apply-layer", { mode: "paper", venue: "paper" });
    await writeServiceStatus(r, "position-state-brain", { mode: "production", venue: "production" });
    await refused();
    await r.flushdb();
    await refused(); // no service reports a mode: may be production
    await writeServiceStatus(r, "apply-layer", { mode: "paper", venue: "paper", heartbeatAgeSec: 25 });
    await refused(); // only a stale status
    await r.flushdb();
    await writeServiceStatus(r, "apply-layer", { mode: "testnet", venue: "testnet" });
    await expect(permitGrant(r, PLAN, { by: "ops", symbol: "BTCUSDT" })).resolves.toMatchObject({
      planId: PLAN,
    });
  });
});

describe("ledger", () => {
  it("sets last_known_amt, updated_at and source=operator, keeping other fields", async () => {
    await r.hset(
      keys.positionLedger("BTCUSDT"),
      encodePositionLedger({ lastKnownAmt: "0.05", lastOrderId: "123", updatedAt: 1, source: "p33" }),
    );
    const res = await ledgerSet(r, "btcusdt", "-0.062", { by: "ops", nowMs: 1_769_929_500_000 });
    expect(res.previous.decoded).toMatchObject({ lastKnownAmt: "0.05", source: "p33" });
    expect(res.written).toEqual({ last_known_amt: "-0.062", updated_at: "1769929500", source: "operator" });
    expect(await r.hgetall(keys.positionLedger("BTCUSDT"))).toEqual({
      last_known_amt: "-0.062",
      last_order_id: "123",
      updated_at: "1769929500",
      source: "operator",
    });
    const shown = await ledgerShow(r, "BTCUSDT");
    expect(shown.ledger.decoded).toMatchObject({ lastKnownAmt: "-0.062", lastOrderId: "123" });
    expect(renderLedgerSet(res, plain)).toContain("0.05 -> -0.062");
  });

  it("rejects non-decimal amounts and bad symbols without writing", async () => {
    for (const bad of ["1e3", "+1", "abc", "1,5", "", "NaN", "0x10"]) {
      await expect(ledgerSet(r, "BTCUSDT", bad, { by: "ops" })).rejects.toThrow(UsageError);
    }
    await expect(ledgerSet(r, "BTC-USDT", "1", { by: "ops" })).rejects.toThrow(UsageError);
    expect(await r.exists(keys.positionLedger("BTCUSDT"))).toBe(0);
  });
});

describe("position", () => {
  it("shows snapshot, ledger, view and paper position with an exact decimal drift", async () => {
    const now = 1_769_929_510_000;
    await r.hset(
      keys.positionSnapshot("BTCUSDT"),
      encodePositionSnapshot({
        positionAmt: "0.062",
        side: "LONG",
        entryPrice: "41000.5",
        markPrice: "41010",
        unrealizedPnl: "0.589",
        leverage: "5",
        tsEpoch: 1769929500,
        source: "paper",
      }),
    );
    await r.hset(
      keys.positionLedger("BTCUSDT"),
      encodePositionLedger({ lastKnownAmt: "0.06", updatedAt: 1769929400, source: "p33" }),
    );
    await r.hset(
      keys.positionView("BTCUSDT"),
      encodePositionView({
        exchangeAmt: "0.062",
        ledgerAmount: "0.06",
        mismatchSince: 1769929450,
        snapshotTs: 1769929500,
      }),
    );
    await r.hset(
      keys.paperPosition("BTCUSDT"),
      encodePaperPosition({ positionAmt: "0.062", entryPrice: "41000.5", markPrice: "41010" }),
    );
    const p = await positionShow(r, "BTCUSDT", { nowMs: now });
    expect(p.snapshotAgeSec).toBeCloseTo(10, 5);
    expect(p.drift).toEqual({ exchangeAmt: "0.062", ledgerAmt: "0.06", diff: "0.002" });
    expect(p.view.decoded?.mismatchSince).toBe(1769929450);
    expect(p.paper.decoded?.positionAmt).toBe("0.062");
    expect(renderPosition(p, plain)).toContain("exchange 0.062 - ledger 0.06 = 0.002");
  });

  it("shows missing parts as absent and no drift", async () => {
    const p = await positionShow(r, "ETHUSDT");
    expect([p.snapshot.present, p.ledger.present, p.view.present, p.paper.present]).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(p.drift).toBeNull();
  });
});
