import { hostname } from "node:os";
import { DEFAULT_STREAM_MAXLEN, keys, streams } from "@quantum/contracts";
import { eventually, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  consumerName,
  deadLetter,
  ensureGroup,
  onShutdown,
  startStatusHeartbeat,
  truncateUtf8,
  xaddCapped,
} from "../src/index.js";
import { silentLogger } from "./helpers.js";

let server: TestRedis;
let r: Redis;

beforeAll(async () => {
  server = await startTestRedis();
  r = server.client();
});
afterAll(async () => {
  await server.stop();
});

describe("stream helpers", () => {
  it("xaddCapped trims approximately to maxlen", async () => {
    for (let i = 0; i < 300; i++) await xaddCapped(r, "test:capped", { i: String(i) }, 100);
    const len = await r.xlen("test:capped");
    expect(len).toBeGreaterThanOrEqual(100);
    expect(len).toBeLessThan(300);
    expect(DEFAULT_STREAM_MAXLEN).toBe(10_000);
  });

  it("ensureGroup creates once and tolerates an existing group", async () => {
    expect(await ensureGroup(r, "test:group", "g1")).toBe(true);
    expect(await ensureGroup(r, "test:group", "g1")).toBe(false);
    const groups = (await r.xinfo("GROUPS", "test:group")) as unknown[][];
    expect(groups).toHaveLength(1);
  });

  it("deadLetter writes stream, id, service, error, ts and raw", async () => {
    const id = await deadLetter(r, {
      stream: streams.applyPlan,
      id: "1-0",
      service: "position-state-brain",
      error: "symbol: missing",
      fields: { plan_id: "ab", huge: "é".repeat(40_000) },
    });
    const [[, flat]] = (await r.xrange(streams.deadLetter, id, id)) as [[string, string[]]];
    const f = Object.fromEntries(flat.flatMap((_, i, a) => (i % 2 === 0 ? [[a[i], a[i + 1]]] : [])));
    expect(Object.keys(f).sort()).toEqual(["error", "id", "raw", "service", "stream", "ts"]);
    expect(f).toMatchObject({ stream: streams.applyPlan, id: "1-0", service: "position-state-brain" });
    const raw = JSON.parse(f.raw as string) as Record<string, string>;
    expect(raw.plan_id).toBe("ab");
    expect(Buffer.byteLength(raw.huge as string)).toBeLessThanOrEqual(64 * 1024);
    expect(truncateUtf8("short", 10)).toBe("short");
  });

  it("consumerName is <hostname>-<service> unless overridden", () => {
    expect(consumerName("apply-layer")).toBe(`${hostname()}-apply-layer`);
    expect(consumerName("apply-layer", " node-b ")).toBe("node-b");
    expect(consumerName("apply-layer", "")).toBe(`${hostname()}-apply-layer`);
  });
});

describe("startStatusHeartbeat", () => {
  it("writes the status hash with a TTL and refreshes it", async () => {
    const hb = startStatusHeartbeat(r, {
      service: "apply-layer",
      mode: "paper",
      venue: "paper",
      consumerName: "host-apply-layer",
      metricsPort: 8000,
      version: "1.0.0",
      extra: { allowlist: "BTCUSDT,ETHUSDT" },
      intervalMs: 50,
    });
    const key = keys.serviceStatus("apply-layer");
    const first = await eventually(async () => {
      const h = await r.hgetall(key);
      if (h.heartbeat_ts === undefined) throw new Error("not yet");
      return h;
    });
    expect(first).toMatchObject({
      service: "apply-layer",
      mode: "paper",
      venue: "paper",
      pid: String(process.pid),
      hostname: hostname(),
      consumer_name: "host-apply-layer",
      version: "1.0.0",
      metrics_port: "8000",
      allowlist: "BTCUSDT,ETHUSDT",
    });
    expect(Number(first.started_at)).toBeGreaterThan(1_600_000_000);
    const ttl = await r.ttl(key);
    expect(ttl).toBeGreaterThan(25);
    expect(ttl).toBeLessThanOrEqual(30);
    await eventually(async () => (await r.hget(key, "heartbeat_ts")) !== first.heartbeat_ts);
    await hb.stop();
    const last = await r.hget(key, "heartbeat_ts");
    await hb.beat();
    expect(Number(await r.hget(key, "heartbeat_ts"))).toBeGreaterThanOrEqual(Number(last));
  });
});

describe("onShutdown", () => {
  it("runs handlers in order on SIGTERM and resolves exit code 0", async () => {
    const order: string[] = [];
    const ctl = onShutdown(silentLogger, [
      async () => {
        order.push("stop consumers");
      },
      async () => {
        order.push("close redis");
      },
    ]);
    try {
      process.kill(process.pid, "SIGTERM");
      expect(await ctl.done).toBe(0);
      expect(order).toEqual(["stop consumers", "close redis"]);
    } finally {
      ctl.dispose();
    }
  });

  it("keeps going after a failing handler and reports exit code 1", async () => {
    const order: string[] = [];
    const ctl = onShutdown(silentLogger, [
      async () => {
        throw new Error("boom");
      },
      async () => {
        order.push("after");
      },
    ]);
    try {
      expect(await ctl.trigger("fatal error")).toBe(1);
      expect(order).toEqual(["after"]);
    } finally {
      ctl.dispose();
    }
  });

  it("gives up after the timeout", async () => {
    const ctl = onShutdown(silentLogger, [() => new Promise<void>(() => undefined)], { timeoutMs: 50 });
    try {
      const t0 = Date.now();
      expect(await ctl.trigger("test")).toBe(1);
      expect(Date.now() - t0).toBeLessThan(1000);
    } finally {
      ctl.dispose();
    }
  });
});
