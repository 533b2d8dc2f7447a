import { keys, streams } from "@quantum/contracts";
import { startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { adviceFor, p33ReasonOf, type ResultRow, readWhyNotTrading } from "../src/index.js";

let redis: TestRedis;
let r: Redis;
const NOW = Date.UTC(2026, 1, 1, 6, 50, 30);

beforeAll(async () => {
  redis = await startTestRedis();
  r = redis.client(3);
});
afterAll(async () => {
  await redis?.stop();
});
beforeEach(async () => {
  await r.flushdb();
});

const result = (over: Partial<ResultRow>): ResultRow => ({
  id: "1-0",
  planId: null,
  symbol: "BTCUSDT",
  decision: "BLOCKED",
  reason: "p33_permit_denied",
  detail: null,
  executed: "False",
  timestamp: null,
  ageSec: null,
  ...over,
});

describe("reading the P3.3 reason of a denied plan", () => {
  it("takes a known deny reason at the start of detail, nothing else", () => {
    expect(p33ReasonOf(result({ detail: "p33_reason=reconcile_hold_active hold=manual" }))).toBe(
      "reconcile_hold_active",
    );
    expect(p33ReasonOf(result({ detail: "p33_reason=cooldown_in_flight" }))).toBe("cooldown_in_flight");
    expect(p33ReasonOf(result({ detail: "p33_reason=cooldown_in_flightx" }))).toBeNull();
    expect(p33ReasonOf(result({ detail: "p33_reason=made_up_reason" }))).toBeNull();
    expect(p33ReasonOf(result({ detail: 'unreadable_permit="allow: missing"' }))).toBeNull();
    expect(
      p33ReasonOf(result({ reason: "governor_denied", detail: "p33_reason=reconcile_hold_active" })),
    ).toBeNull();
  });

  it("advises from the action table with the symbol filled in, and points to the docs for unknown codes", () => {
    expect(adviceFor("reconcile_hold_active", "ETHUSDT").action).toContain("quantum:reconcile:hold:ETHUSDT");
    expect(adviceFor("kill_switch_active").action).toContain("quantumctl kill off");
    expect(adviceFor("made_up_reason").meaning).toMatch(/does not document/);
  });
});

describe("readWhyNotTrading (real Redis)", () => {
  it("judges each symbol: hold before drift before cooldown before its last result", async () => {
    const nowSec = NOW / 1000;
    const snap = (s: string, amt: string) =>
      r.hset(keys.positionSnapshot(s), { position_amt: amt, ts_epoch: String(nowSec - 2) });
    await snap("AAAUSDT", "1");
    await r.set(keys.reconcileHold("AAAUSDT"), "ops");
    await r.hset(keys.positionView("AAAUSDT"), { mismatch_since: String(nowSec - 5) });
    await snap("BBBUSDT", "-2");
    await r.hset(keys.positionLedger("BBBUSDT"), { last_known_amt: "1.5" });
    await r.hset(keys.positionView("BBBUSDT"), { mismatch_since: String(nowSec - 5) });
    await snap("CCCUSDT", "3");
    await r.hset(keys.positionLedger("CCCUSDT"), { last_known_amt: "3" });
    await r.hset(keys.positionView("CCCUSDT"), { mismatch_since: "" });
    await r.set(keys.cooldownLastExecTs("CCCUSDT"), String(NOW - 4000));
    await snap("DDDUSDT", "4");
    await r.xadd(
      streams.applyResult,
      "*",
      "symbol",
      "DDDUSDT",
      "decision",
      "BLOCKED",
      "reason",
      "p33_permit_denied",
      "detail",
      "p33_reason=stale_exchange_state age_seconds=42.5",
    );
    await r.xadd(streams.applyResult, "*", "symbol", "EEEUSDT", "decision", "EXECUTE", "reason", "none");

    const m = await readWhyNotTrading(r, { nowMs: NOW, cooldownSec: 15 });
    const row = (s: string) => m.symbols.find((x) => x.symbol === s);
    expect(row("AAAUSDT")?.blocker).toEqual({ reason: "reconcile_hold_active", source: "hold" });
    expect(row("BBBUSDT")).toMatchObject({
      drift: "-3.5",
      blocker: { reason: "reconcile_required_side_mismatch", source: "drift" },
    });
    expect(row("CCCUSDT")).toMatchObject({ drift: "0", blocker: { reason: "cooldown_in_flight" } });
    expect(row("CCCUSDT")?.cooldownRemainingSec).toBeCloseTo(11, 3);
    expect(row("DDDUSDT")?.blocker).toEqual({ reason: "stale_exchange_state", source: "last_result" });
    expect(row("EEEUSDT")).toMatchObject({ blocker: null, advice: null, exchangeAmt: null });
    // Blocked rows first.
    expect(m.symbols.map((s) => s.symbol)).toEqual(["AAAUSDT", "BBBUSDT", "CCCUSDT", "DDDUSDT", "EEEUSDT"]);
    // A missing kill-switch key in an unknown mode is judged as production: halted.
    expect(m.killSwitch).toMatchObject({ halted: true, value: null, mode: "production" });
    expect(m.headline.trading).toBe(false);
  });

  it("says trading is allowed when the switch is off and nothing blocks", async () => {
    await r.set(keys.killSwitch, "false");
    const m = await readWhyNotTrading(r, { nowMs: NOW });
    expect(m.headline).toEqual({ trading: true, text: "Trading allowed" });
    expect(m.killSwitch.advice).toBeNull();
    expect(m.symbols).toEqual([]);
    expect(m.windows.map((w) => w.window)).toEqual(["1m", "5m", "15m", "1h"]);
  });
});
