import { keyPatterns, keys } from "@quantum/contracts";
import { eventually, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyspaceEventsEnabled, PermitWaiter, type PermitWaitParams } from "../src/index.js";
import { GOV_PERMIT, newPlanId, P33_PERMIT, scripted } from "./helpers.js";

const params = (planId: string): PermitWaitParams => ({
  planId,
  symbol: "BTCUSDT",
  maxWaitMs: 10_000,
  stepMs: 5_000, // long: only notifications can explain a fast result
  mode: "paper",
  execRecordTtlSec: 600,
});

/** Connections of the server subscribed to at least one channel or pattern. */
async function subscriberConnections(r: Redis): Promise<number> {
  const list = (await r.client("LIST")) as string;
  return list.split("\n").filter((l) => / sub=[1-9]| psub=[1-9]/.test(l)).length;
}

interface Seen {
  key: string;
  event: string;
}

function recorder(): { seen: Seen[]; onEvent: (key: string, event: string) => void } {
  const seen: Seen[] = [];
  return { seen, onEvent: (key, event) => seen.push({ key, event }) };
}

describe("keyspaceEventsEnabled", () => {
  it("needs K and (the class or A)", () => {
    expect(keyspaceEventsEnabled("KEA", "h")).toBe(true);
    expect(keyspaceEventsEnabled("Kh", "h")).toBe(true);
    expect(keyspaceEventsEnabled("K$", "h")).toBe(false);
    expect(keyspaceEventsEnabled("Eh", "h")).toBe(false);
    expect(keyspaceEventsEnabled("", "h")).toBe(false);
  });
});

describe("PermitWaiter.watchKeys with hash events on", () => {
  let server: TestRedis;
  let writer: Redis;
  let waiter: PermitWaiter;
  beforeAll(async () => {
    server = await startTestRedis();
    writer = scripted(server);
    waiter = new PermitWaiter(scripted(server));
  });
  afterAll(async () => {
    await waiter.close();
    await server.stop();
  });

  it("reports writes of matching keys and shares the permit waits' subscriber connection", async () => {
    const rec = recorder();
    expect(await waiter.watchKeys(keyPatterns.harvestProposal, "h", { onEvent: rec.onEvent })).toBe(true);
    await writer.hset(keys.harvestProposal("ETHUSDT"), "action", "FULL_CLOSE_PROPOSED");
    await writer.hset(keys.positionLedger("ETHUSDT"), "x", "1");
    await eventually(() => rec.seen.length >= 1);
    expect(rec.seen).toEqual([{ key: keys.harvestProposal("ETHUSDT"), event: "hset" }]);

    const planId = newPlanId();
    const wait = waiter.wait(params(planId));
    await writer.set(keys.governorPermit(planId), GOV_PERMIT, "EX", 60);
    await writer.set(keys.p33Permit(planId), P33_PERMIT, "EX", 60);
    expect((await wait).outcome).toBe("ok");
    expect(await subscriberConnections(writer)).toBe(1);
  });

  it("after the subscriber connection is killed: reports the reconnect and watches again", async () => {
    const rec = recorder();
    let reconnects = 0;
    const watch = { onEvent: rec.onEvent, onReconnect: () => reconnects++ };
    expect(await waiter.watchKeys(keyPatterns.positionLedger, "h", watch)).toBe(true);
    await writer.client("KILL", "TYPE", "pubsub");
    await eventually(() => reconnects === 1 && waiter.subscriberConnected);
    await eventually(async () => {
      await writer.hset(keys.positionLedger("SOLUSDT"), "n", "1");
      return rec.seen.length > 0;
    });
    expect(rec.seen[0]).toEqual({ key: keys.positionLedger("SOLUSDT"), event: "hset" });
  });
});

describe("PermitWaiter.watchKeys without hash events", () => {
  let server: TestRedis;
  let waiter: PermitWaiter;
  beforeAll(async () => {
    server = await startTestRedis({ notifyKeyspaceEvents: "K$" });
    waiter = new PermitWaiter(scripted(server));
  });
  afterAll(async () => {
    await waiter.close();
    await server.stop();
  });

  it("declines (the caller polls) while permit waits still use string events", async () => {
    const rec = recorder();
    expect(await waiter.watchKeys(keyPatterns.harvestProposal, "h", { onEvent: rec.onEvent })).toBe(false);
    expect(await waiter.notificationsEnabled()).toBe(true);
  });
});
