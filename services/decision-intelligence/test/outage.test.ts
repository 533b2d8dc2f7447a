import { eventually, httpGet, startTestRedis, type TestRedis } from "@quantum/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, feed, pending, startService, status } from "./support.js";

let redis: TestRedis;

beforeAll(async () => {
  assertBuilt();
  redis = await startTestRedis({ appendOnly: true });
});
afterAll(async () => {
  await redis.stop();
});

const results = (n: number, symbol: string) =>
  Array.from({ length: n }, () => ({
    symbol,
    decision: "SKIP",
    reason: "action_hold",
    timestamp: String(Date.now() / 1000),
  }));

describe("Redis outage (real process)", () => {
  it("goes red while Redis is down, keeps running, and loses nothing when it returns", async () => {
    const r = redis.client(0);
    const svc = await startService(redis, 0);
    await feed(r, results(100, "BTCUSDT"));
    await eventually(async () => (await status(r)).processed_total === "100");

    await redis.stopServer();
    await eventually(async () => (await httpGet(svc.port, "/health")).status === 503, { timeoutMs: 10_000 });
    expect(svc.proc.proc.exitCode).toBeNull();
    // The status page says so instead of failing: 503 with HTML, and the JSON names the cause.
    const page = await fetch(`http://127.0.0.1:${svc.port}/`);
    expect(page.status).toBe(503);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await page.text()).toContain("Redis unreachable");
    const json = await httpGet(svc.port, "/status.json");
    expect(json.status).toBe(503);
    expect(JSON.parse(json.body)).toMatchObject({ error: "redis unreachable" });

    await redis.startServer();
    await eventually(async () => (await httpGet(svc.port, "/health")).status === 200, { timeoutMs: 15_000 });
    expect((await httpGet(svc.port, "/")).status).toBe(200);
    await feed(redis.client(0), results(50, "ETHUSDT"));
    const r2 = redis.client(0);
    await eventually(async () => (await status(r2)).processed_total === "150" && (await pending(r2)) === 0, {
      timeoutMs: 15_000,
    });
    expect(await svc.proc.stop()).toBe(0);
  });
});
