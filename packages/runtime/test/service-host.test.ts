import { keys } from "@quantum/contracts";
import { eventually, freePort, httpGet, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConsumerNameInUseError,
  claimConsumerName,
  createServiceHost,
  loadScripts,
  type RedisConnectionConfig,
  RUNTIME_SCRIPTS,
  runService,
  type ServiceHostStartOptions,
  type ServiceParts,
} from "../src/index.js";
import { silentLogger } from "./helpers.js";

let server: TestRedis;

beforeAll(async () => {
  server = await startTestRedis();
});
afterAll(async () => {
  await server?.stop();
});

function redisConfig(db: number, port = server.port): RedisConnectionConfig {
  return {
    REDIS_HOST: server.host,
    REDIS_PORT: port,
    REDIS_DB: db,
    REDIS_SENTINEL_NAME: "mymaster",
  } as RedisConnectionConfig;
}

/** Parts that record what the host asked of them, in order. */
function recordingParts(events: string[], onStop: () => Promise<void> = async () => undefined) {
  let running = false;
  const parts: ServiceParts = {
    checks: (redisOk) => ({ loop: { ok: running, detail: `redis ${redisOk}` } }),
    ready: () => running,
    start() {
      events.push("start");
      running = true;
    },
    async stop() {
      events.push("stop");
      await onStop();
      running = false;
    },
  };
  return parts;
}

function hostOptions(
  db: number,
  consumer: string,
  parts: ServiceHostStartOptions["parts"],
): ServiceHostStartOptions {
  return {
    redis: redisConfig(db),
    consumerName: consumer,
    metricsHost: "127.0.0.1",
    metricsPort: 0,
    blocking: ["reads"],
    statusExtra: { allowlist: "BTCUSDT" },
    parts,
  };
}

function identity(name: string) {
  return { name, mode: "paper", venue: "paper", version: "1.2.3", logger: silentLogger };
}

/** Connections of a service still open on the test Redis (by CLIENT SETNAME). */
async function openConnections(r: Redis, service: string): Promise<string[]> {
  const list = (await r.client("LIST")) as string;
  return [...list.matchAll(/ name=(\S*)/g)]
    .map((m) => m[1] ?? "")
    .filter((n) => n.startsWith(`${service}:`) || n.startsWith(`${service}-`));
}

describe("service host (real Redis)", () => {
  it("starts the parts once the consumer name is held, serves /health /ready /metrics and writes the status hash", async () => {
    const r = server.client(1);
    const events: string[] = [];
    let blockingName = "";
    const service = await createServiceHost(identity("host-a")).start(
      hostOptions(1, "a-1", (ctx) => {
        blockingName = ctx.blocking("reads").options.connectionName ?? "";
        return recordingParts(events);
      }),
    );
    try {
      await service.started;
      expect(events).toEqual(["start"]);
      expect(blockingName).toBe("host-a-reads:blocking");
      expect(await r.get(keys.consumerHeartbeat("host-a", "a-1"))).toMatch(/:\d+:[0-9a-f]{8}$/);
      const health = await httpGet(service.port, "/health");
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body)).toEqual({
        status: "ok",
        checks: { redis: { ok: true }, loop: { ok: true, detail: "redis true" } },
      });
      expect((await httpGet(service.port, "/ready")).status).toBe(200);
      expect((await httpGet(service.port, "/metrics")).body).toContain(
        'quantum_service_info{service="host-a",mode="paper",version="1.2.3"} 1',
      );
      await eventually(async () => (await r.hget(keys.serviceStatus("host-a"), "consumer_name")) === "a-1");
      expect(await r.hgetall(keys.serviceStatus("host-a"))).toMatchObject({
        service: "host-a",
        mode: "paper",
        venue: "paper",
        version: "1.2.3",
        metrics_port: String(service.port),
        allowlist: "BTCUSDT",
      });
      expect(await openConnections(r, "host-a")).toEqual(
        expect.arrayContaining(["host-a:main", "host-a-reads:blocking"]),
      );
    } finally {
      await service.stop();
    }
  });

  it("stops in order: the parts drain while the name is held and /health answers; then the heartbeat is released, the server closed and Redis quit", async () => {
    const r = server.client(2);
    const key = keys.consumerHeartbeat("host-b", "b-1");
    const events: string[] = [];
    let seenWhileDraining: { holder: string | null; health: number } | null = null;
    let port = 0;
    const service = await createServiceHost(identity("host-b")).start(
      hostOptions(2, "b-1", () =>
        recordingParts(events, async () => {
          seenWhileDraining = { holder: await r.get(key), health: (await httpGet(port, "/health")).status };
        }),
      ),
    );
    port = service.port;
    await service.started;
    const holder = await r.get(key);
    expect(holder).not.toBeNull();

    await service.stop();
    expect(events).toEqual(["start", "stop"]);
    expect(seenWhileDraining).toEqual({ holder, health: 200 });
    expect(await r.exists(key)).toBe(0);
    await expect(httpGet(port, "/health")).rejects.toThrow();
    await eventually(async () => (await openConnections(r, "host-b")).length === 0);
    // stop() is idempotent
    await service.stop();
  });

  it("refuses to start when another live instance holds the consumer name; the parts never start", async () => {
    const r = server.client(3);
    loadScripts(r, [RUNTIME_SCRIPTS]);
    const key = keys.consumerHeartbeat("host-c", "c-1");
    const other = await claimConsumerName(r, {
      service: "host-c",
      consumer: "c-1",
      logger: silentLogger,
      ttlMs: 1000,
    });
    const events: string[] = [];
    const service = await createServiceHost(identity("host-c")).start(
      hostOptions(3, "c-1", () => recordingParts(events)),
    );
    try {
      await expect(service.started).rejects.toBeInstanceOf(ConsumerNameInUseError);
      expect(events).toEqual([]);
      expect((await httpGet(service.port, "/ready")).status).toBe(503);
      await service.stop();
      expect(events).toEqual([]);
      expect(await r.get(key)).toBe(other.instanceId);
      await eventually(async () => (await openConnections(r, "host-c")).length === 0);
    } finally {
      await other.stop();
    }
  });

  it("a throwing script registration refuses the start before anything is served and closes the connections", async () => {
    const r = server.client(4);
    let built = false;
    const start = createServiceHost(identity("host-d")).start({
      ...hostOptions(4, "d-1", () => {
        built = true;
        return recordingParts([]);
      }),
      scripts: () => {
        throw new Error("lua/missing.lua: no such file");
      },
    });
    await expect(start).rejects.toThrow("lua/missing.lua: no such file");
    expect(built).toBe(false);
    await eventually(async () => (await openConnections(r, "host-d")).length === 0);
  });

  it("a stop while Redis has not answered yet ends the wait at once; nothing is claimed or started", async () => {
    const events: string[] = [];
    const down = await freePort();
    const service = await createServiceHost(identity("host-e")).start({
      ...hostOptions(5, "e-1", () => recordingParts(events)),
      redis: redisConfig(5, down),
    });
    expect((await httpGet(service.port, "/health")).status).toBe(503);
    const t0 = Date.now();
    await service.stop();
    await service.started;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(events).toEqual([]);
    expect(await server.client(5).exists(keys.consumerHeartbeat("host-e", "e-1"))).toBe(0);
  });

  it("a stop while the claim waits out an earlier instance's heartbeat ends the wait at once", async () => {
    const r = server.client(6);
    const key = keys.consumerHeartbeat("host-f", "f-1");
    await r.set(key, "old-host:1:dead", "PX", 4000);
    const events: string[] = [];
    let main: Redis | null = null;
    const service = await createServiceHost(identity("host-f")).start(
      hostOptions(6, "f-1", (ctx) => {
        main = ctx.redis;
        return recordingParts(events);
      }),
    );
    await eventually(() => main?.status === "ready");
    const t0 = Date.now();
    await service.stop();
    await service.started;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(events).toEqual([]);
    expect(await r.get(key)).toBe("old-host:1:dead");
  });

  it("runService: a refused start stops what was opened and exits 1; a requested stop exits 0", async () => {
    const r = server.client(7);
    loadScripts(r, [RUNTIME_SCRIPTS]);
    const other = await claimConsumerName(r, {
      service: "host-g",
      consumer: "g-1",
      logger: silentLogger,
      ttlMs: 1000,
    });
    try {
      const refused = await createServiceHost(identity("host-g")).start(
        hostOptions(7, "g-1", () => recordingParts([])),
      );
      const run = runService(refused, silentLogger, { signals: [] });
      expect(await run.done).toBe(1);
      await expect(httpGet(refused.port, "/health")).rejects.toThrow();
    } finally {
      await other.stop();
    }
    const events: string[] = [];
    const service = await createServiceHost(identity("host-g")).start(
      hostOptions(7, "g-1", () => recordingParts(events)),
    );
    const run = runService(service, silentLogger, { signals: [] });
    await service.started;
    expect(await run.trigger("test")).toBe(0);
    expect(await run.done).toBe(0);
    expect(events).toEqual(["start", "stop"]);
  });
});
