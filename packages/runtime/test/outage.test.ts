import { eventually, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  closeRedis,
  createRedis,
  type RedisConnectionConfig,
  redisHealthy,
  redisReady,
  StreamConsumer,
} from "../src/index.js";
import { addEntries, decodeN, pendingIds, silentLogger, streamMetrics } from "./helpers.js";

let server: TestRedis;
let cfg: RedisConnectionConfig;
const conns: Redis[] = [];

function conn(role: "main" | "blocking" | "subscriber" = "main"): Redis {
  const c = createRedis(cfg, { name: "outage-test", role, logger: silentLogger });
  conns.push(c);
  return c;
}

beforeAll(async () => {
  server = await startTestRedis({ appendOnly: true });
  cfg = {
    REDIS_HOST: server.host,
    REDIS_PORT: server.port,
    REDIS_DB: 0,
    REDIS_SENTINEL_NAME: "mymaster",
  } as RedisConnectionConfig;
});
afterAll(async () => {
  await Promise.all(conns.map((c) => closeRedis(c)));
  await server.stop();
});

async function timed<T>(p: Promise<T>): Promise<{ ms: number; error: unknown }> {
  const t0 = Date.now();
  try {
    await p;
    return { ms: Date.now() - t0, error: null };
  } catch (error) {
    return { ms: Date.now() - t0, error };
  }
}

describe("Redis outage", () => {
  it("connections fail fast while Redis is down, never crash, and recover", async () => {
    const main = conn("main");
    const blocking = conn("blocking");
    expect(await redisReady(main)).toBe(true);
    expect(await redisReady(blocking)).toBe(true);
    await main.set("k", "before");
    const inFlight = timed(blocking.xread("BLOCK", 5000, "STREAMS", "test:never", "$"));

    await server.stopServer();
    const blocked = await inFlight;
    expect(blocked.error).toBeInstanceOf(Error);
    expect(blocked.ms).toBeLessThan(1500);
    const whileDown = await timed(main.get("k"));
    expect(whileDown.error).toBeInstanceOf(Error);
    expect(whileDown.ms).toBeLessThan(1500);
    expect(await redisHealthy(main)).toBe(false);

    await server.startServer();
    await eventually(() => redisHealthy(main), { timeoutMs: 15_000 });
    expect(await main.get("k")).toBe("before");
    await eventually(() => redisHealthy(blocking), { timeoutMs: 15_000 });
  });

  it("a StreamConsumer survives the outage and resumes without losing entries", async () => {
    const stream = "test:outage";
    const m = streamMetrics();
    const seen: number[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((res) => {
      release = res;
    });
    const c = new StreamConsumer<number>({
      redis: conn("main"),
      blocking: conn("blocking"),
      stream,
      group: "g",
      consumer: "c1",
      service: "runtime-test",
      startId: "0",
      blockMs: 100,
      retryMinMs: 20,
      retryMaxMs: 200,
      decode: decodeN,
      metrics: m.metrics,
      logger: silentLogger,
      handleBatch: async (items) => {
        const first4 = items.some((i) => i.value === 4) && !seen.includes(4);
        seen.push(...items.map((i) => i.value));
        if (first4) await gate; // the outage hits while this batch is in flight
        return items.map((i) => i.id);
      },
    });
    c.start();
    const admin = server.client();
    await addEntries(admin, stream, 1, 1);
    await eventually(() => seen.includes(1));
    await eventually(async () => (await m.value("quantum_redis_up", {})) === 1);

    await addEntries(admin, stream, 1, 4);
    await eventually(() => seen.includes(4));
    await server.stopServer();
    release(); // its XACK now fails: the entry must stay pending and be handled again after the restart
    await eventually(async () => (await m.value("quantum_redis_up", {})) === 0);
    await server.startServer();
    await eventually(() => redisHealthy(admin), { timeoutMs: 15_000 });
    await addEntries(admin, stream, 2, 2);
    await eventually(() => seen.includes(2) && seen.includes(3), { timeoutMs: 15_000 });
    await eventually(async () => (await pendingIds(admin, stream, "g")).length === 0);
    expect(seen.filter((n) => n === 1)).toHaveLength(1);
    expect(seen.filter((n) => n === 4)).toHaveLength(2);
    expect(await pendingIds(admin, stream, "g")).toEqual([]);
    expect(c.alive()).toBe(true);
    expect(await m.value("quantum_redis_up", {})).toBe(1);
    await c.stop();
  });
});
