import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, freePort, startTestRedis, type TestRedis } from "@quantum/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  closeRedis,
  createRedis,
  loadConfig,
  reconnectDelayMs,
  redisConfigSchema,
  redisDb,
  redisHealthy,
  redisOptionsFromConfig,
  redisReady,
} from "../src/index.js";
import { silentLogger } from "./helpers.js";

let server: TestRedis;
let sentinel: ChildProcess | null = null;
let sentinelDir = "";
const conns: Redis[] = [];

function cfgFrom(env: Record<string, string>) {
  return loadConfig(redisConfigSchema, { env, argv: [] });
}

function open(env: Record<string, string>, role: "main" | "blocking" | "subscriber" = "main") {
  const c = createRedis(cfgFrom(env), { name: "redis-test", role, logger: silentLogger });
  conns.push(c);
  return c;
}

beforeAll(async () => {
  server = await startTestRedis();
});
afterAll(async () => {
  await Promise.all(conns.map((c) => closeRedis(c)));
  sentinel?.kill("SIGKILL");
  if (sentinelDir !== "") rmSync(sentinelDir, { recursive: true, force: true });
  await server.stop();
});

describe("createRedis", () => {
  it("connects by host/port/db (alias names too) and exposes the db", async () => {
    const c = open({
      QUANTUM_REDIS_HOST: server.host,
      QUANTUM_REDIS_PORT: String(server.port),
      REDIS_DB: "3",
    });
    expect(await redisReady(c)).toBe(true);
    expect(redisDb(c)).toBe(3);
    await c.set("where", "db3");
    expect(await server.client(3).get("where")).toBe("db3");
    expect(await redisHealthy(c)).toBe(true);
    const names = await server.client().client("LIST");
    expect(String(names)).toContain("name=redis-test:main");
  });

  it("connects by URL", async () => {
    const c = open({ REDIS_URL: server.url(5) });
    expect(await redisReady(c)).toBe(true);
    expect(redisDb(c)).toBe(5);
    await c.set("where", "db5");
    expect(await server.client(5).get("where")).toBe("db5");
  });

  it("finds the master through Sentinel", async () => {
    const port = await freePort();
    sentinelDir = mkdtempSync(join(tmpdir(), "quantum-sentinel-"));
    const conf = join(sentinelDir, "sentinel.conf");
    writeFileSync(
      conf,
      [
        `port ${port}`,
        "bind 127.0.0.1",
        `dir ${sentinelDir}`,
        `sentinel monitor qmaster ${server.host} ${server.port} 1`,
        "sentinel down-after-milliseconds qmaster 60000",
      ].join("\n"),
    );
    sentinel = spawn("redis-server", [conf, "--sentinel"], { stdio: "ignore" });
    const probe = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    probe.on("error", () => undefined);
    conns.push(probe);
    await eventually(async () => {
      const addr = (await probe.call("SENTINEL", "get-master-addr-by-name", "qmaster")) as string[] | null;
      return addr !== null && addr[1] === String(server.port);
    });
    const c = open({ REDIS_SENTINELS: `127.0.0.1:${port}`, REDIS_SENTINEL_NAME: "qmaster", REDIS_DB: "4" });
    expect(await redisReady(c)).toBe(true);
    expect(redisDb(c)).toBe(4);
    await c.set("where", "via-sentinel");
    expect(await server.client(4).get("where")).toBe("via-sentinel");
  });

  it("subscriber connections receive keyspace notifications", async () => {
    const sub = open({ REDIS_URL: server.url(0) }, "subscriber");
    const got: string[] = [];
    sub.on("message", (_ch: string, msg: string) => got.push(msg));
    await sub.subscribe(`__keyspace@${redisDb(sub)}__:watched`);
    await server.client().set("watched", "1");
    await eventually(() => got.includes("set"));
  });

  it("uses capped reconnect backoff and fail-fast options", () => {
    expect([1, 2, 3, 6, 7, 100].map(reconnectDelayMs)).toEqual([50, 100, 200, 1600, 2000, 2000]);
    const cfg = cfgFrom({ REDIS_HOST: "h", REDIS_PASSWORD: "pw" });
    const main = redisOptionsFromConfig(cfg, "main");
    expect(main).toMatchObject({ host: "h", port: 6379, db: 0, password: "pw", enableOfflineQueue: false });
    expect(main.commandTimeout).toBeLessThanOrEqual(1000);
    expect(redisOptionsFromConfig(cfg, "blocking").commandTimeout).toBeGreaterThan(1000);
    expect(redisOptionsFromConfig(cfg, "subscriber").enableOfflineQueue).toBe(true);
    const url = redisOptionsFromConfig(cfgFrom({ REDIS_URL: "rediss://u:p%40ss@example.com:6390/2" }));
    expect(url).toMatchObject({
      host: "example.com",
      port: 6390,
      db: 2,
      username: "u",
      password: "p@ss",
      tls: {},
    });
  });

  it("reports an unhealthy connection when nothing listens", async () => {
    const port = await freePort();
    const c = open({ REDIS_HOST: "127.0.0.1", REDIS_PORT: String(port) });
    expect(await redisReady(c, 200)).toBe(false);
    expect(await redisHealthy(c)).toBe(false);
    await expect(c.get("x")).rejects.toThrow();
  });
});
