import { keys } from "@quantum/contracts";
import { httpGet, startTestRedis, type TestRedis } from "@quantum/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningService, startApply } from "./helpers.js";

let redis: TestRedis;
const running: RunningService[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await Promise.all(running.map((s) => s.proc.kill()));
  await redis?.stop();
});

/** The heartbeat TTL of a consumer name (runtime's CONSUMER_HEARTBEAT_TTL_MS). */
const TTL_MS = 5000;

async function apply(consumer: string, ready = true): Promise<RunningService> {
  const s = await startApply(redis, {}, { consumer, ready });
  running.push(s);
  return s;
}

describe("one live instance per consumer name", () => {
  it("a second Apply Layer with the same consumer name refuses to start; the first keeps running", async () => {
    const consumer = `dup-${process.pid}`;
    const first = await apply(consumer);
    const key = keys.consumerHeartbeat("apply-layer", consumer);
    const holder = await redis.client(0).get(key);
    expect(holder).toMatch(/:\d+:[0-9a-f]{8}$/);

    const second = await apply(consumer, false);
    const code = await second.proc.exited;
    expect(code).not.toBe(0);
    expect(second.proc.stderr()).toContain(
      `consumer name "${consumer}" of apply-layer is in use by a live instance`,
    );
    expect((await httpGet(first.port, "/health")).status).toBe(200);
    expect(await redis.client(0).get(key)).toBe(holder);

    expect(await first.proc.stop()).toBe(0);
    expect(await redis.client(0).exists(key)).toBe(0);
  });

  it("after a SIGKILL an immediate restart under the same name comes back within the heartbeat TTL", async () => {
    const consumer = `crash-${process.pid}`;
    const first = await apply(consumer);
    const key = keys.consumerHeartbeat("apply-layer", consumer);
    const dead = await redis.client(0).get(key);
    await first.proc.kill();
    // the dead instance's heartbeat is still there: the restart has to see it run down
    expect(await redis.client(0).get(key)).toBe(dead);
    expect(await redis.client(0).pttl(key)).toBeGreaterThan(1000);
    const t0 = Date.now();
    const restarted = await apply(consumer);
    const tookMs = Date.now() - t0;
    expect(tookMs).toBeLessThan(TTL_MS + 5000);
    const now = await redis.client(0).get(key);
    expect(now).not.toBeNull();
    expect(now).not.toBe(dead);
    expect(await restarted.proc.stop()).toBe(0);
  });
});
