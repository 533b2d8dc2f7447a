import { keys, streams } from "@quantum/contracts";
import { readServiceStatuses } from "@quantum/insight";
import { KILL_SWITCH_CASES, readKillSwitch } from "@quantum/permits";
import { eventually, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { confirmDurability } from "../src/commands/durability.js";
import { killStatus, setKillSwitch } from "../src/commands/kill.js";
import { stateSet, stateShow } from "../src/commands/state.js";
import { statusSnapshot } from "../src/commands/status.js";
import { UsageError } from "../src/errors/usage-error.js";
import { renderKillSet, renderKillStatus } from "../src/render/control.js";
import { renderStatus } from "../src/render/status.js";
import { createStyle } from "../src/render/style.js";
import { writeServiceStatus, writeWindow5m } from "./helpers.js";

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

describe("kill on / off", () => {
  it("returns only after orders already past the submit gate have settled, and reports them", async () => {
    const planId = "0123456789abcdef";
    await r.hset(keys.execRecord(planId), { state: "SUBMITTING", plan_id: planId, symbol: "BTCUSDT" });
    await r.zadd(keys.applySubmitting, Date.now(), planId);
    const mon = await r.duplicate().monitor();
    const seen: string[][] = [];
    mon.on("monitor", (_t: string, args: string[]) => seen.push(args));
    let returned = false;
    const pending = setKillSwitch(r, true, { reason: "incident", by: "ops", drainTimeoutMs: 10_000 }).then(
      (res) => {
        returned = true;
        return res;
      },
    );
    // the drain has looked at the in-flight list at least twice: the order is still on its way
    await eventually(
      () => seen.filter((a) => a[0]?.toLowerCase() === "zrange" && a[1] === keys.applySubmitting).length >= 2,
    );
    mon.disconnect();
    expect(returned).toBe(false);
    await r.hset(keys.execRecord(planId), "state", "FILLED");
    const res = await pending;
    expect(res.inFlight).toMatchObject({ atSwitch: [planId], remaining: [], drained: true });
    expect(renderKillSet(res, plain)).toContain("orders in flight at the switch: 1, all settled");
    expect(await r.zcard(keys.applySubmitting)).toBe(0);
  });

  it("says which orders are still in flight when they do not settle in time", async () => {
    const planId = "fedcba9876543210";
    await r.hset(keys.execRecord(planId), { state: "SUBMITTING", plan_id: planId, symbol: "ETHUSDT" });
    await r.zadd(keys.applySubmitting, Date.now(), planId);
    const res = await setKillSwitch(r, true, { reason: "incident", by: "ops", drainTimeoutMs: 100 });
    expect(res.inFlight).toMatchObject({ atSwitch: [planId], remaining: [planId], drained: false });
    expect(renderKillSet(res, plain)).toContain(`orders still in flight after`);
    expect((await setKillSwitch(r, false, { by: "ops" })).inFlight).toBeNull();
  });

  it("refuses kill on without a reason and writes nothing", async () => {
    await expect(setKillSwitch(r, true, { by: "ops" })).rejects.toThrow(UsageError);
    await expect(setKillSwitch(r, true, { by: "ops", reason: "   " })).rejects.toThrow(/--reason/);
    expect(await r.exists(keys.killSwitch)).toBe(0);
  });

  it("writes value, reason, by and at in one MULTI", async () => {
    const mon = await r.duplicate().monitor();
    const seen: string[][] = [];
    mon.on("monitor", (_t: string, args: string[]) => seen.push(args));
    try {
      const res = await setKillSwitch(r, true, {
        reason: "exchange incident",
        by: "alice",
        nowMs: 1_769_929_500_000,
      });
      expect(res).toMatchObject({
        switch: "on",
        value: "true",
        reason: "exchange incident",
        by: "alice",
        at: 1769929500,
      });
      expect(res.readBack).toEqual({ value: "true", halted: true });
      await eventually(() => seen.some((a) => a[0]?.toLowerCase() === "exec"));
    } finally {
      mon.disconnect();
    }
    const names = seen.map((a) => a[0]?.toLowerCase());
    const multi = names.indexOf("multi");
    const exec = names.indexOf("exec");
    expect(multi).toBeGreaterThanOrEqual(0);
    const inside = seen.slice(multi + 1, exec).map((a) => a[1]);
    expect(inside).toEqual(
      expect.arrayContaining([keys.killSwitch, keys.killSwitchReason, keys.killSwitchBy, keys.killSwitchAt]),
    );
    expect(
      await r.mget(keys.killSwitch, keys.killSwitchReason, keys.killSwitchBy, keys.killSwitchAt),
    ).toEqual(["true", "exchange incident", "alice", "1769929500.000"]);
    const s = await readKillSwitch(r, "paper");
    expect(s.halted).toBe(true);
  });

  it("kill off arms again and clears the old reason unless a new one is given", async () => {
    await setKillSwitch(r, true, { reason: "maintenance", by: "alice" });
    const off = await setKillSwitch(r, false, { by: "bob" });
    expect(off.readBack).toEqual({ value: "false", halted: false });
    expect(await r.get(keys.killSwitchReason)).toBeNull();
    expect(await r.get(keys.killSwitchBy)).toBe("bob");
    await setKillSwitch(r, false, { by: "bob", reason: "incident over" });
    expect(await r.get(keys.killSwitchReason)).toBe("incident over");
    expect(renderKillSet(off, plain)).toContain("kill switch OFF — trading allowed");
  });
});

describe("kill status", () => {
  it("applies the permits rule (every case) in the given mode", async () => {
    for (const c of KILL_SWITCH_CASES) {
      if (c.value === null) await r.del(keys.killSwitch);
      else await r.set(keys.killSwitch, c.value);
      const s = await killStatus(r, { mode: c.mode });
      expect([c.value, c.mode, s.halted]).toEqual([c.value, c.mode, c.halted]);
    }
  });

  it("judges a missing key by mode: option, live services, APPLY_MODE, else production", async () => {
    expect(await killStatus(r, { mode: "paper" })).toMatchObject({
      halted: false,
      modeSource: "option",
      keyPresent: false,
    });
    const assumed = await killStatus(r);
    expect(assumed).toMatchObject({ halted: true, mode: "production", modeSource: "assumed" });
    expect(assumed.explanation).toContain("halted in production");
    expect(await killStatus(r, { envMode: "testnet" })).toMatchObject({
      halted: false,
      modeSource: "APPLY_MODE",
    });
    await writeServiceStatus(r, "apply-layer", { mode: "dry_run", venue: "paper" });
    expect(await killStatus(r, { envMode: "production" })).toMatchObject({
      halted: false,
      mode: "dry_run",
      modeSource: "live service",
    });
    await writeServiceStatus(r, "apply-layer", { mode: "production", venue: "production" });
    expect(await killStatus(r)).toMatchObject({ halted: true, mode: "production" });
  });

  it("shows reason, by and at; an unknown value halts", async () => {
    await setKillSwitch(r, true, { reason: "drill", by: "carol", nowMs: 1_769_929_500_000 });
    const s = await killStatus(r, { mode: "paper" });
    expect(s).toMatchObject({
      value: "true",
      halted: true,
      reason: "drill",
      by: "carol",
      atIso: "2026-02-01T07:05:00.000Z",
    });
    await r.set(keys.killSwitch, "maybe");
    const unknown = await killStatus(r, { mode: "paper" });
    expect(unknown.halted).toBe(true);
    expect(renderKillStatus(unknown, plain)).toContain("fail closed");
  });
});

describe("durability confirmation", () => {
  it("reports no replicas and AOF off on a plain server", async () => {
    const d = await confirmDurability(r, 200);
    expect(d.replicas).toEqual({ connected: 0, acknowledged: null, status: "no_replicas" });
    expect(d.aof.status).toBe("disabled");
    expect(d.complete).toBe(true);
  });

  it("WAITs for connected replicas and handles AOF with or without WAITAOF", async () => {
    const primary = await startTestRedis({ appendOnly: true });
    const replica = await startTestRedis({ extraArgs: ["--replicaof", primary.host, String(primary.port)] });
    try {
      const p = primary.client();
      await eventually(async () => /connected_slaves:1/.test(await p.info("replication")), {
        timeoutMs: 15_000,
      });
      await eventually(async () => /master_link_status:up/.test(await replica.client().info("replication")), {
        timeoutMs: 15_000,
      });
      const res = await setKillSwitch(p, true, { reason: "replicated", by: "ops", waitTimeoutMs: 2000 });
      expect(res.durability.replicas).toEqual({ connected: 1, acknowledged: 1, status: "confirmed" });
      expect(res.durability.aof.enabled).toBe(true);
      const version = res.durability.serverVersion.split(".").map(Number);
      const hasWaitaof = (version[0] ?? 0) > 7 || ((version[0] ?? 0) === 7 && (version[1] ?? 0) >= 2);
      expect(res.durability.aof.status).toBe(hasWaitaof ? "confirmed" : "unsupported");
      expect(res.durability.complete).toBe(true);
      expect(renderKillSet(res, plain)).toMatch(hasWaitaof ? /WAITAOF confirmed/ : /WAITAOF unsupported/);
      await eventually(async () => (await replica.client().get(keys.killSwitch)) === "true");
    } finally {
      await replica.stop();
      await primary.stop();
    }
  });
});

describe("trading state", () => {
  it("sets case-insensitively, shows, and fails closed on unknown values", async () => {
    expect(await stateShow(r)).toMatchObject({ state: "ACTIVE", halted: false, value: null });
    const set = await stateSet(r, "reduce_only", { by: "ops" });
    expect(set).toMatchObject({ state: "REDUCE_ONLY", previous: { state: "ACTIVE" } });
    expect(await r.get(keys.tradingState)).toBe("REDUCE_ONLY");
    await stateSet(r, "HALTED", { by: "ops" });
    expect(await stateShow(r)).toMatchObject({ state: "HALTED", halted: true });
    await r.set(keys.tradingState, "PAUSED");
    const unknown = await stateShow(r);
    expect(unknown).toMatchObject({ state: "HALTED", halted: true });
    expect(unknown.explanation).toContain("fail closed");
    await expect(stateSet(r, "STOPPED", { by: "ops" })).rejects.toThrow(UsageError);
    expect(await r.get(keys.tradingState)).toBe("PAUSED");
  });
});

describe("mode", () => {
  it("shows running, stale and absent services and discovers other status hashes", async () => {
    const now = Date.now();
    await writeServiceStatus(r, "apply-layer", {
      mode: "paper",
      venue: "paper",
      metricsPort: 8000,
      nowMs: now,
    });
    await writeServiceStatus(r, "position-state-brain", {
      mode: "paper",
      venue: "paper",
      heartbeatAgeSec: 25,
      nowMs: now,
    });
    await writeServiceStatus(r, "dev-governor", { mode: "paper", venue: "paper", nowMs: now });
    const m = await readServiceStatuses(r, { nowMs: now });
    expect(m.services.map((s) => [s.service, s.state])).toEqual([
      ["apply-layer", "running"],
      ["position-state-brain", "stale"],
      ["decision-intelligence", "not running"],
      ["dev-governor", "running"],
    ]);
    expect(m.services[0]).toMatchObject({
      mode: "paper",
      venue: "paper",
      pid: 4242,
      hostname: "testhost",
      metricsPort: 8000,
    });
    expect(m.services[1]?.heartbeatAgeSec).toBeCloseTo(25, 0);
  });
});

describe("status", () => {
  it("summarises kill switch, state, services, windows, last results and alerts", async () => {
    const now = Date.now();
    await setKillSwitch(r, true, { reason: "drill", by: "ops" });
    await writeWindow5m(r, { EXECUTE: 3, BLOCKED: 1 }, { none: 3, governor_denied: 1 });
    await r.xadd(
      streams.applyResult,
      "*",
      "plan_id",
      "ba3cbf84bf17f3a2",
      "symbol",
      "BTCUSDT",
      "decision",
      "BLOCKED",
      "reason",
      "governor_denied",
      "timestamp",
      String(now - 3000), // milliseconds from another producer
    );
    await r.xadd(
      streams.p35Alerts,
      "*",
      "window",
      "5m",
      "reason",
      "governor_denied",
      "share",
      "0.65",
      "severity",
      "HIGH",
      "timestamp",
      String(now / 1000),
    );
    const s = await statusSnapshot(r, { nowMs: now, mode: "paper" });
    expect(s.killSwitch).toMatchObject({ halted: true, reason: "drill" });
    expect(s.tradingState.state).toBe("ACTIVE");
    expect(s.windows.map((w) => [w.window, w.total])).toEqual([
      ["1m", 0],
      ["5m", 4],
      ["15m", 0],
      ["1h", 0],
    ]);
    expect(s.windows[1]?.topGate).toEqual({ reason: "governor_denied", score: 1 });
    expect(s.lastResults[0]).toMatchObject({
      planId: "ba3cbf84bf17f3a2",
      decision: "BLOCKED",
      reason: "governor_denied",
    });
    expect(s.lastResults[0]?.ageSec).toBeCloseTo(3, 0);
    expect(s.lastAlerts[0]).toMatchObject({ severity: "HIGH", reason: "governor_denied" });
    const text = renderStatus(s, plain);
    expect(text).toContain("kill switch ON — trading halted");
    expect(text).toMatch(/5m\s+4\s+EXECUTE 75\.0% BLOCKED 25\.0%/);
  });
});
