import { groups, keys, streams } from "@quantum/contracts";
import {
  dashboard,
  dashboardCondition,
  lastMinutes,
  minuteLabel,
  parseSymbolReason,
  queryA,
  queryB,
  queryC,
  queryD,
  queryE,
} from "@quantum/insight";
import { freePort, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseSymbolList, parseThreshold } from "../src/commands/dashboard/args.js";
import { UsageError } from "../src/errors/usage-error.js";
import { renderDashboard } from "../src/render/dashboard.js";
import { createStyle } from "../src/render/style.js";
import { healthServer, utc, writeServiceStatus, writeWindow5m } from "./helpers.js";

const plain = createStyle(false);
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

describe("bucket minutes", () => {
  it("labels UTC minutes and spans 5 complete minutes plus the current one", () => {
    const now = utc(2026, 2, 1, 6, 55, 30);
    expect(minuteLabel(now)).toBe("202602010655");
    expect(lastMinutes(now, 5)).toEqual([
      "202602010650",
      "202602010651",
      "202602010652",
      "202602010653",
      "202602010654",
      "202602010655",
    ]);
    // across midnight and a month end
    expect(lastMinutes(utc(2026, 3, 1, 0, 2, 0), 5)[0]).toBe("202602282357");
  });

  it("splits symbol_reason fields at the first colon after the symbol", () => {
    expect(parseSymbolReason("symbol_reason:BTCUSDT:permit_timeout_or_missing:missing_p33")).toEqual([
      "BTCUSDT",
      "permit_timeout_or_missing:missing_p33",
    ]);
    expect(parseSymbolReason("reason:none")).toBeNull();
    expect(parseSymbolReason("symbol_reason:BTCUSDT:")).toBeNull();
  });
});

describe("query A", () => {
  it("shows the decision distribution, top 15 reasons with none as success, and the skip rate", async () => {
    const reasons: Record<string, number> = { none: 40 };
    for (let i = 0; i < 20; i++) reasons[`gate_${String(i).padStart(2, "0")}`] = 20 - i;
    await writeWindow5m(r, { EXECUTE: 40, SKIP: 120, BLOCKED: 30, ERROR: 10 }, reasons);
    const a = await queryA(r);
    expect(a.total).toBe(200);
    expect(a.decisions).toEqual([
      { decision: "EXECUTE", count: 40, pct: 20 },
      { decision: "SKIP", count: 120, pct: 60 },
      { decision: "BLOCKED", count: 30, pct: 15 },
      { decision: "ERROR", count: 10, pct: 5 },
    ]);
    expect(a.skipRatePct).toBe(60);
    expect(a.executeRatePct).toBe(20);
    expect(a.reasons).toHaveLength(15);
    expect(a.reasons[0]).toEqual({ reason: "none", score: 40, pct: 20, success: true });
    expect(a.reasons.filter((x) => x.success)).toHaveLength(1);
    expect(a.reasons[14]?.reason).toBe("gate_13");
    const text = renderDashboard(a, plain);
    expect(text).toContain("none (success)");
    expect(text).toMatch(/skip rate 60\.0%/);
    expect(text).toContain("P3.5 status hash missing");
  });

  it("reports an empty window and P3.5 freshness", async () => {
    await r.hset(keys.p35Status, { last_ts: String(Date.now() / 1000 - 30), processed_total: "16300" });
    const a = await queryA(r);
    expect(a.total).toBe(0);
    expect(a.skipRatePct).toBeNull();
    expect(a.p35.present).toBe(true);
    expect(a.p35.processedTotal).toBe(16300);
    expect(a.p35.lastAgeSec).toBeGreaterThanOrEqual(29);
    expect(renderDashboard(a, plain)).toContain("no results in the 5m window");
  });
});

describe("query B (per-symbol windows)", () => {
  async function seedWindows(): Promise<void> {
    await r.hset(keys.p35SymbolDecisionCounts("15m"), {
      "BTCUSDT:BLOCKED": "12",
      "BTCUSDT:SKIP": "1",
      "BTCUSDT:EXECUTE": "7",
      "SOLUSDT:SKIP": "7",
    });
    await r.hset(keys.p35SymbolReasonCounts("15m"), {
      "BTCUSDT:p33_permit_denied": "7",
      "BTCUSDT:permit_timeout_or_missing:missing_p33": "5",
      "BTCUSDT:action_hold": "1",
      "BTCUSDT:none": "7",
      "SOLUSDT:action_hold": "7",
    });
    await r.hset(keys.p35SymbolDecisionCounts("1h"), { "ETHUSDT:BLOCKED": "500" });
    await r.hset(keys.p35SymbolReasonCounts("1h"), { "ETHUSDT:no_position": "500" });
  }

  it("reads the 15m per-symbol window: decision mix and gates per symbol, most results first", async () => {
    await seedWindows();
    const b = await queryB(r);
    expect(b.window).toBe("15m");
    expect(b.symbols.map((s) => s.symbol)).toEqual(["BTCUSDT", "SOLUSDT"]); // ETHUSDT only in 1h
    const btc = b.symbols[0]!;
    expect(btc.total).toBe(20);
    expect(btc.success).toBe(7);
    expect(btc.decisions).toEqual([
      { decision: "EXECUTE", count: 7, pct: 35 },
      { decision: "SKIP", count: 1, pct: 5 },
      { decision: "BLOCKED", count: 12, pct: 60 },
    ]);
    expect(btc.gates).toEqual([
      { reason: "p33_permit_denied", score: 7, pct: 35 },
      { reason: "permit_timeout_or_missing:missing_p33", score: 5, pct: 25 },
      { reason: "action_hold", score: 1, pct: 5 },
    ]);
    const text = renderDashboard(b, plain);
    expect(text).toContain("(15m window)");
    expect(text).toMatch(/BTCUSDT: 20 results, 7 success \(35\.0%\)/);
    expect(text).toContain("EXECUTE 7 (35.0%), SKIP 1 (5.0%), BLOCKED 12 (60.0%)");
    const h1 = await queryB(r, { window: "1h" });
    expect(h1.symbols.map((s) => [s.symbol, s.total])).toEqual([["ETHUSDT", 500]]);
  });

  it("filters to requested symbols, keeps their order and shows symbols without data", async () => {
    await seedWindows();
    const b = await queryB(r, { symbols: parseSymbolList("solusdt, ETHUSDT") });
    expect(b.requestedSymbols).toEqual(["SOLUSDT", "ETHUSDT"]);
    expect(b.symbols.map((s) => [s.symbol, s.total])).toEqual([
      ["SOLUSDT", 7],
      ["ETHUSDT", 0],
    ]);
    expect(renderDashboard(b, plain)).toContain("ETHUSDT: no results in the 15m window");
  });

  it("limits to the top 10 gates and counts the rest", async () => {
    const fields: Record<string, string> = {};
    for (let i = 1; i <= 12; i++) fields[`BTCUSDT:gate_${String(i).padStart(2, "0")}`] = String(i);
    await r.hset(keys.p35SymbolReasonCounts("15m"), fields);
    const b = await queryB(r);
    const btc = b.symbols[0]!;
    expect(btc.total).toBe(78); // no decision counts (another writer): the reason sum
    expect(btc.gates).toHaveLength(10);
    expect(btc.gates[0]?.reason).toBe("gate_12");
    expect(btc.otherGates).toBe(1 + 2);
  });

  it("an empty window says so", async () => {
    const b = await queryB(r);
    expect(b.symbols).toEqual([]);
    expect(renderDashboard(b, plain)).toContain("no per-symbol results in the 15m window");
  });

  it("rejects a malformed symbol list", () => {
    expect(() => parseSymbolList("BTCUSDT eth-usdt")).toThrow(UsageError);
  });
});

describe("query C", () => {
  it("gives percentages of all results, none separately, and warns above 40 %", async () => {
    await writeWindow5m(
      r,
      { EXECUTE: 50, BLOCKED: 130, SKIP: 20 },
      {
        none: 50,
        p33_permit_denied: 90,
        action_hold: 20,
        governor_denied: 40,
      },
    );
    const c = await queryC(r);
    expect(c.total).toBe(200);
    expect(c.success).toEqual({ score: 50, pct: 25 });
    expect(c.gates.map((g) => [g.reason, g.score, g.pct, g.overThreshold])).toEqual([
      ["p33_permit_denied", 90, 45, true],
      ["governor_denied", 40, 20, false],
      ["action_hold", 20, 10, false],
    ]);
    expect(c.warnings.map((w) => w.reason)).toEqual(["p33_permit_denied"]);
    const text = renderDashboard(c, plain);
    expect(text).toContain("WARNING: gate p33_permit_denied holds 45.0% of all results (> 40%)");
    expect(text).toContain("success (none): 50 (25.0%)");
  });

  it("does not warn when only none is large", async () => {
    await writeWindow5m(r, { EXECUTE: 90, SKIP: 10 }, { none: 90, action_hold: 10 });
    const c = await queryC(r);
    expect(c.warnings).toEqual([]);
    expect(renderDashboard(c, plain)).toContain("no single gate above 40%");
  });
});

describe("query D", () => {
  it("lists every gate above the threshold with its share (exit condition)", async () => {
    await writeWindow5m(
      r,
      { BLOCKED: 160, EXECUTE: 40 },
      { none: 40, p33_permit_denied: 90, governor_denied: 70 },
    );
    const d = await queryD(r, { thresholdPct: 30 });
    expect(d.crossed).toEqual([
      { reason: "p33_permit_denied", score: 90, pct: 45 },
      { reason: "governor_denied", score: 70, pct: 35 },
    ]);
    expect(dashboardCondition(d)).toBe(true);
    const text = renderDashboard(d, plain);
    expect(text).toContain("DRIFT: 2 gate(s) above 30%");
    expect(text).toMatch(/p33_permit_denied\s+45\.0%\s+\(90 of 200\)/);
  });

  it("never counts none as a gate, even when it dominates", async () => {
    await writeWindow5m(r, { EXECUTE: 180, SKIP: 20 }, { none: 180, action_hold: 20 });
    const d = await queryD(r);
    expect(d.crossed).toEqual([]);
    expect(d.topGate).toEqual({ reason: "action_hold", score: 20, pct: 10 });
    expect(dashboardCondition(d)).toBe(false);
  });

  it("judges shares of ALL results, not of the gates alone", async () => {
    // Among gates only, p33_permit_denied would be 60 %; of all results it is 30 %.
    await writeWindow5m(
      r,
      { EXECUTE: 100, BLOCKED: 100 },
      { none: 100, p33_permit_denied: 60, action_hold: 40 },
    );
    const d = await queryD(r);
    expect(d.crossed).toEqual([]);
    expect(d.topGate?.pct).toBe(30);
  });

  it("compares the share, not the raw score, with the threshold", async () => {
    await writeWindow5m(r, { EXECUTE: 955, BLOCKED: 45 }, { none: 955, p33_permit_denied: 45 });
    const d = await queryD(r, { thresholdPct: 40 });
    expect(d.total).toBe(1000);
    expect(d.crossed).toEqual([]);
  });

  it("is strict at the threshold and honours a custom threshold and min total", async () => {
    await writeWindow5m(r, { BLOCKED: 40, EXECUTE: 60 }, { none: 60, governor_denied: 40 });
    expect((await queryD(r, { thresholdPct: 40 })).crossed).toEqual([]);
    expect((await queryD(r, { thresholdPct: 39.9 })).crossed.map((g) => g.reason)).toEqual([
      "governor_denied",
    ]);
    const few = await queryD(r, { thresholdPct: 10, minTotal: 101 });
    expect(few.enoughData).toBe(false);
    expect(few.crossed).toEqual([]);
    expect(renderDashboard(few, plain)).toContain("not enough data: 100 results (< --min-total 101)");
  });

  it("reports an empty window without crossing", async () => {
    const d = await queryD(r);
    expect(d.total).toBe(0);
    expect(d.crossed).toEqual([]);
    expect(renderDashboard(d, plain)).toContain("nothing to judge");
  });

  it("validates the threshold", () => {
    expect(parseThreshold(undefined)).toBe(40);
    expect(parseThreshold("50%")).toBe(50);
    for (const bad of ["abc", "0", "101", "", "-5"]) expect(() => parseThreshold(bad)).toThrow(UsageError);
  });
});

describe("query E", () => {
  it("reports the P3.5 status, pending and lag per group, and each service's /health", async () => {
    const ok = await healthServer(200);
    const bad = await healthServer(503);
    const closedPort = await freePort();
    try {
      await r.hset(keys.p35Status, {
        last_id: "1769929500000-0",
        last_ts: String(Date.now() / 1000 - 2),
        processed_total: "16300",
        pending: "0",
        lag: "0",
        consumer_name: "vm-decision-intelligence",
        service_start_ts: "1769900000",
      });
      for (let i = 0; i < 5; i++) await r.xadd(streams.applyResult, "*", "plan_id", `p${i}`);
      await r.xgroup("CREATE", streams.applyResult, groups.p35, "0");
      await r.xgroup("CREATE", streams.applyResult, groups.p33Ledger, "$");
      await r.xreadgroup("GROUP", groups.p35, "c1", "COUNT", 3, "STREAMS", streams.applyResult, ">");
      await r.xadd(streams.applyPlan, "*", "plan_id", "x");
      await writeServiceStatus(r, "apply-layer", { mode: "paper", venue: "paper", metricsPort: ok.port });
      await writeServiceStatus(r, "position-state-brain", {
        mode: "paper",
        venue: "paper",
        metricsPort: bad.port,
      });
      const e = await queryE(r, { defaultPorts: { "decision-intelligence": closedPort }, timeoutMs: 1000 });
      expect(e.p35Status.processedTotal).toBe(16300);
      expect(e.p35Status.lastId).toBe("1769929500000-0");
      const p35 = e.groups.find((g) => g.group === groups.p35)!;
      expect(p35).toMatchObject({ groupExists: true, pending: 3, lag: 2, consumers: 1 });
      expect(p35.pendingByConsumer).toEqual([{ consumer: "c1", count: 3 }]);
      expect(e.groups.find((g) => g.group === groups.p33Ledger)).toMatchObject({ pending: 0, lag: 0 });
      expect(e.groups.find((g) => g.group === groups.p33)).toMatchObject({
        streamExists: true,
        groupExists: false,
      });
      expect(e.services.map((s) => [s.service, s.ok, s.httpStatus, s.port, s.portSource])).toEqual([
        ["apply-layer", true, 200, ok.port, "status"],
        ["position-state-brain", false, 503, bad.port, "status"],
        ["decision-intelligence", false, null, closedPort, "default"],
      ]);
      expect(e.healthy).toBe(false);
      expect(dashboardCondition(e)).toBe(true);
      const text = renderDashboard(e, plain);
      expect(text).toMatch(/apply\.result\s+p35_decision_intel\s+3\s+2\s+1/);
      expect(text).toContain("UNHEALTHY");

      await writeServiceStatus(r, "position-state-brain", {
        mode: "paper",
        venue: "paper",
        metricsPort: ok.port,
      });
      await writeServiceStatus(r, "decision-intelligence", {
        mode: "paper",
        venue: "paper",
        metricsPort: ok.port,
      });
      const healthy = await queryE(r);
      expect(healthy.healthy).toBe(true);
      expect(dashboardCondition(healthy)).toBe(false);
    } finally {
      await ok.close();
      await bad.close();
    }
  });

  it("is unhealthy without the P3.5 status hash", async () => {
    const ok = await healthServer(200);
    try {
      for (const s of ["apply-layer", "position-state-brain", "decision-intelligence"]) {
        await writeServiceStatus(r, s, { mode: "paper", venue: "paper", metricsPort: ok.port });
      }
      const e = await queryE(r);
      expect(e.services.every((s) => s.ok)).toBe(true);
      expect(e.p35Status.present).toBe(false);
      expect(e.healthy).toBe(false);
      expect(e.groups.every((g) => !g.streamExists)).toBe(true);
    } finally {
      await ok.close();
    }
  });
});

describe("dashboard all", () => {
  it("runs A to E and carries the D condition", async () => {
    const ok = await healthServer(200);
    try {
      for (const s of ["apply-layer", "position-state-brain", "decision-intelligence"]) {
        await writeServiceStatus(r, s, { mode: "paper", venue: "paper", metricsPort: ok.port });
      }
      await r.hset(keys.p35Status, { last_ts: String(Date.now() / 1000), processed_total: "10" });
      await writeWindow5m(r, { BLOCKED: 10 }, { governor_denied: 10 });
      const all = await dashboard(r, "all");
      if (all.query !== "all") throw new Error("expected all");
      expect(all.a.total).toBe(10);
      expect(all.d.crossed.map((g) => g.reason)).toEqual(["governor_denied"]);
      expect(all.e.healthy).toBe(true);
      expect(dashboardCondition(all)).toBe(true);
      const text = renderDashboard(all, plain);
      for (const t of ["== A)", "== B)", "== C)", "== D)", "== E)"]) expect(text).toContain(t);
    } finally {
      await ok.close();
    }
  });
});
