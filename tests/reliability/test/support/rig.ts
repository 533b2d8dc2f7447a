import { keys } from "@quantum/contracts";
import { type FakeBinance, startFakeBinance, startTestRedis, type TestRedis } from "@quantum/testkit";
import { Redis } from "ioredis";
import { fakePositions, fakeSymbols, QuantumSystem, type SystemOptions } from "./system.js";

/** Fake exchange credentials, distinctive so a leak is easy to find. */
export function fakeCredentials(tag: string): { apiKey: string; apiSecret: string } {
  return { apiKey: `RELKEY${tag}7f3a9c`, apiSecret: `RELSECRET${tag}b81d42e6` };
}

export interface Rig {
  redis: TestRedis;
  r: Redis;
  /** A fail-fast client (no offline queue, 1 s command timeout) for load that must not stall in an outage. */
  fast: Redis;
  fake: FakeBinance;
  sys: QuantumSystem;
  close(): Promise<void>;
}

/** Test Redis + FakeBinance (twenty symbols, each long 1024) + the whole system, started and healthy. */
export async function startRig(
  tag: string,
  opts: { appendOnly?: boolean; env?: SystemOptions["env"]; start?: boolean } = {},
): Promise<Rig> {
  const redis = await startTestRedis(opts.appendOnly === true ? { appendOnly: true } : {});
  const r = redis.client(0);
  await r.set(keys.killSwitch, "false");
  const creds = fakeCredentials(tag);
  const fake = await startFakeBinance({ ...creds, symbols: fakeSymbols(), positions: fakePositions() });
  const sys = await QuantumSystem.create({
    redisEnv: { REDIS_URL: redis.url(0) },
    exchange: { baseUrl: fake.baseUrl, ...creds },
    tag,
    ...(opts.env !== undefined ? { env: opts.env } : {}),
  });
  if (opts.start !== false) {
    try {
      await sys.startAll(r);
    } catch (err) {
      // A failed start must not leave processes behind (afterAll has no rig to close).
      await sys.stopAll().catch(() => undefined);
      await fake.close().catch(() => undefined);
      await redis.stop().catch(() => undefined);
      throw err;
    }
  }
  const fast = new Redis({
    host: redis.host,
    port: redis.port,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 1000,
    retryStrategy: () => 100,
  });
  fast.on("error", () => undefined);
  return {
    redis,
    r,
    fast,
    fake,
    sys,
    async close() {
      fast.disconnect();
      await sys.stopAll().catch(() => undefined);
      await fake.close().catch(() => undefined);
      await redis.stop().catch(() => undefined);
    },
  };
}

/** Resolve after one event-loop turn of at most `ms` (< 100 ms: loops poll, they never sleep long). */
export function tick(ms = 20): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(ms, 50)));
}
