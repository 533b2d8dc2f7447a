import { keys } from "@quantum/contracts";
import { freePort, startTestRedis, type TestRedis } from "@quantum/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  claimExecution,
  consumePermits,
  KILL_SWITCH_CASES,
  killSwitchHalts,
  parseTradingState,
  readKillSwitch,
  readTradingState,
  TRADING_STATE_CASES,
  tradingStateHalts,
} from "../src/index.js";
import { newPlanId, permitsExist, scripted, setPermits } from "./helpers.js";

let server: TestRedis;
let redis: Redis;

beforeAll(async () => {
  server = await startTestRedis();
  redis = scripted(server);
});
afterAll(async () => {
  await server.stop();
});

async function setKillSwitch(value: string | null): Promise<void> {
  if (value === null) await redis.del(keys.killSwitch);
  else await redis.set(keys.killSwitch, value);
}

const label = (c: { value: string | null; mode: string }): string =>
  `${JSON.stringify(c.value)} in ${c.mode}`;

describe("the shared kill-switch table", () => {
  it("covers every row of the kill-switch rule", () => {
    const find = (value: string | null, mode: string) =>
      KILL_SWITCH_CASES.find((c) => c.value === value && c.mode === mode)?.halted;
    for (const v of ["true", "TRUE", "1", "yes", "on", " On "]) expect(find(v, "paper")).toBe(true);
    for (const v of ["false", "0", "no", "off"]) expect(find(v, "production")).toBe(false);
    for (const v of ["maybe", ""]) expect(find(v, "dry_run")).toBe(true);
    expect(find(null, "production")).toBe(true);
    for (const m of ["dry_run", "paper", "testnet"]) expect(find(null, m)).toBe(false);
  });

  it("TS twin killSwitchHalts matches every row", () => {
    for (const c of KILL_SWITCH_CASES) expect(killSwitchHalts(c.value, c.mode), label(c)).toBe(c.halted);
  });

  it("consumePermits-6.lua matches every row (halted = nothing consumed)", async () => {
    await redis.del(keys.tradingState);
    for (const c of KILL_SWITCH_CASES) {
      const planId = newPlanId();
      await setKillSwitch(c.value);
      await setPermits(redis, planId);
      const res = await consumePermits(redis, {
        planId,
        symbol: "ETHUSDT",
        mode: c.mode,
        execRecordTtlSec: 60,
      });
      expect(res.outcome, label(c)).toBe(c.halted ? "kill_switch_active" : "ok");
      expect(await permitsExist(redis, planId), label(c)).toEqual({ governor: c.halted, p33: c.halted });
    }
  });

  it("claimExecution-4.lua matches every row (halted = no record)", async () => {
    await redis.del(keys.tradingState);
    for (const c of KILL_SWITCH_CASES) {
      const planId = newPlanId();
      await setKillSwitch(c.value);
      const res = await claimExecution(redis, {
        planId,
        symbol: "ETHUSDT",
        mode: c.mode,
        execRecordTtlSec: 60,
      });
      expect(res.outcome, label(c)).toBe(c.halted ? "kill_switch_active" : "ok");
      expect(await redis.exists(keys.execRecord(planId)), label(c)).toBe(c.halted ? 0 : 1);
    }
  });

  it("readKillSwitch matches every row", async () => {
    for (const c of KILL_SWITCH_CASES) {
      await setKillSwitch(c.value);
      const status = await readKillSwitch(redis, c.mode);
      expect(status.halted, label(c)).toBe(c.halted);
      expect(status.value, label(c)).toBe(c.value);
      expect(status.error).toBeUndefined();
    }
  });
});

describe("readKillSwitch", () => {
  it("returns reason, by and at", async () => {
    await redis.mset(
      keys.killSwitch,
      "true",
      keys.killSwitchReason,
      "manual stop",
      keys.killSwitchBy,
      "ops-alice",
      keys.killSwitchAt,
      "1769928600",
    );
    expect(await readKillSwitch(redis, "paper")).toEqual({
      halted: true,
      value: "true",
      reason: "manual stop",
      by: "ops-alice",
      at: "1769928600",
    });
  });

  it("a Redis error counts as halted in every mode", async () => {
    const dead = new Redis({
      host: "127.0.0.1",
      port: await freePort(),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on("error", () => undefined);
    try {
      for (const mode of ["dry_run", "paper", "testnet", "production"] as const) {
        const status = await readKillSwitch(dead, mode);
        expect(status.halted).toBe(true);
        expect(status.error).toEqual(expect.any(String));
      }
      const ts = await readTradingState(dead);
      expect(ts).toMatchObject({ state: "HALTED", halted: true, value: null });
      expect(ts.error).toEqual(expect.any(String));
    } finally {
      dead.disconnect();
    }
  });
});

describe("trading state", () => {
  it("TS twin matches the trading-state table", () => {
    for (const c of TRADING_STATE_CASES) {
      expect(parseTradingState(c.value), JSON.stringify(c.value)).toBe(c.state);
      expect(tradingStateHalts(c.value), JSON.stringify(c.value)).toBe(c.halted);
    }
  });

  it("readTradingState and both scripts match the trading-state table", async () => {
    await redis.set(keys.killSwitch, "off");
    for (const c of TRADING_STATE_CASES) {
      const what = JSON.stringify(c.value);
      if (c.value === null) await redis.del(keys.tradingState);
      else await redis.set(keys.tradingState, c.value);
      expect(await readTradingState(redis), what).toEqual({
        state: c.state,
        halted: c.halted,
        value: c.value,
      });

      const planId = newPlanId();
      await setPermits(redis, planId);
      const consumed = await consumePermits(redis, {
        planId,
        symbol: "BTCUSDT",
        mode: "production",
        execRecordTtlSec: 60,
      });
      expect(consumed.outcome, what).toBe(c.halted ? "trading_state_halted" : "ok");

      const claimed = await claimExecution(redis, {
        planId: newPlanId(),
        symbol: "BTCUSDT",
        mode: "testnet",
        execRecordTtlSec: 60,
      });
      expect(claimed.outcome, what).toBe(c.halted ? "trading_state_halted" : "ok");
    }
  });
});
