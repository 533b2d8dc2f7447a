import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, freePort, metricValue, startTestRedis, type TestRedis } from "../src/index.js";

describe("startTestRedis", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it("serves a real redis with keyspace notifications on", async () => {
    const c = redis.client();
    expect(await c.set("k", "v")).toBe("OK");
    expect(await c.get("k")).toBe("v");
    const cfg = (await c.config("GET", "notify-keyspace-events")) as string[];
    expect(cfg[1]).toMatch(/K/);
    expect(cfg[1]).toMatch(/A|\$/);
  });

  it("keeps data across an outage when AOF is on", async () => {
    if (redis.kind !== "local") return;
    const r = await startTestRedis({ appendOnly: true });
    try {
      const c = r.client();
      await c.set("persist", "yes");
      await r.stopServer();
      await expect(c.ping()).rejects.toThrow();
      await r.startServer();
      await eventually(async () => (await c.get("persist")) === "yes");
    } finally {
      await r.stop();
    }
  });
});

describe("helpers", () => {
  it("eventually returns the value and times out with the last error", async () => {
    let n = 0;
    expect(await eventually(() => ++n >= 3 && n)).toBe(3);
    await expect(eventually(() => false, { timeoutMs: 50 })).rejects.toThrow(/timed out/);
  });

  it("freePort gives a bindable port", async () => {
    const p = await freePort();
    expect(p).toBeGreaterThan(0);
  });

  it("metricValue sums matching series", () => {
    const text = [
      "# TYPE apply_executed_total counter",
      'apply_executed_total{status="success"} 3',
      'apply_executed_total{status="rejected"} 2',
      "permit_wait_ms 12.5",
    ].join("\n");
    expect(metricValue(text, "apply_executed_total", { status: "success" })).toBe(3);
    expect(metricValue(text, "apply_executed_total")).toBe(5);
    expect(metricValue(text, "permit_wait_ms")).toBe(12.5);
    expect(metricValue(text, "absent_total")).toBe(0);
  });
});
