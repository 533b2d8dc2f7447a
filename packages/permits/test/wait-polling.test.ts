import { performance } from "node:perf_hooks";
import { keyPatterns, keys } from "@quantum/contracts";
import { startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyspaceNotificationsEnabled, PermitWaiter, type PermitWaitParams } from "../src/index.js";
import { GOV_PERMIT, newPlanId, P33_PERMIT, permitsExist, scripted } from "./helpers.js";

const params = (planId: string, over: Partial<PermitWaitParams> = {}): PermitWaitParams => ({
  planId,
  symbol: "BTCUSDT",
  maxWaitMs: 5_000,
  stepMs: 40,
  mode: "paper",
  execRecordTtlSec: 600,
  ...over,
});

/** Polling only: the wait must end, the permits be consumed, and nothing be subscribed. */
async function pollingWorks(waiter: PermitWaiter, writer: Redis): Promise<void> {
  const planId = newPlanId();
  await writer.set(keys.governorPermit(planId), GOV_PERMIT, "EX", 60);
  const done = waiter.wait(params(planId));
  expect(waiter.subscribedChannelCount).toBe(0);
  await writer.set(keys.p33Permit(planId), P33_PERMIT, "EX", 60);
  const setAt = performance.now();
  const res = await done;
  expect(res.outcome).toBe("ok");
  expect(performance.now() - setAt).toBeLessThan(1000); // a few poll steps at most
  expect(await permitsExist(writer, planId)).toEqual({ governor: false, p33: false });

  const missing = await waiter.wait(params(newPlanId(), { maxWaitMs: 200 }));
  expect(missing).toMatchObject({ outcome: "timeout", missing: "missing_both" });
  expect(missing.attempts).toBeGreaterThanOrEqual(3);
}

describe("keyspaceNotificationsEnabled", () => {
  it("needs K and ($ or A)", () => {
    expect(keyspaceNotificationsEnabled("AKE")).toBe(true);
    expect(keyspaceNotificationsEnabled("K$")).toBe(true);
    expect(keyspaceNotificationsEnabled("Kg$x")).toBe(true);
    expect(keyspaceNotificationsEnabled("")).toBe(false);
    expect(keyspaceNotificationsEnabled("EA")).toBe(false);
    expect(keyspaceNotificationsEnabled("Kgx")).toBe(false);
  });
});

describe("notifications off on the server", () => {
  let server: TestRedis;
  let waiter: PermitWaiter;
  beforeAll(async () => {
    server = await startTestRedis({ notifyKeyspaceEvents: "" });
    waiter = new PermitWaiter(scripted(server));
  });
  afterAll(async () => {
    await waiter.close();
    await server.stop();
  });

  it("detects off and waits by polling", async () => {
    expect(await waiter.notificationsEnabled()).toBe(false);
    expect(waiter.subscriberConnected).toBe(false);
    await pollingWorks(waiter, scripted(server));
  });

  it("50 concurrent polling waits resolve", async () => {
    const writer = scripted(server);
    const plans = Array.from({ length: 50 }, () => newPlanId());
    const waits = plans.map((p) => waiter.wait(params(p)));
    const pipe = writer.pipeline();
    for (const p of plans) pipe.set(keys.governorPermit(p), GOV_PERMIT).set(keys.p33Permit(p), P33_PERMIT);
    await pipe.exec();
    const results = await Promise.all(waits);
    expect(results.every((r) => r.outcome === "ok")).toBe(true);
    expect(waiter.activeWaits).toBe(0);
  });
});

describe("CONFIG refused by the server", () => {
  let server: TestRedis;
  let waiter: PermitWaiter;
  beforeAll(async () => {
    server = await startTestRedis({ extraArgs: ["--rename-command", "CONFIG", ""] });
    waiter = new PermitWaiter(scripted(server));
  });
  afterAll(async () => {
    await waiter.close();
    await server.stop();
  });

  it("treats notifications as off and polls", async () => {
    const writer = scripted(server);
    await expect(writer.config("GET", "notify-keyspace-events")).rejects.toThrow();
    expect(await waiter.notificationsEnabled()).toBe(false);
    await pollingWorks(waiter, writer);
  });

  it("declines keyspace watches (the caller polls) without opening a subscriber", async () => {
    const watch = { onEvent: () => undefined };
    expect(await waiter.watchKeys(keyPatterns.harvestProposal, "h", watch)).toBe(false);
    expect(waiter.subscriberConnected).toBe(false);
  });
});
