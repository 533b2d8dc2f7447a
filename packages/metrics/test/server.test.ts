import { httpGet } from "@quantum/testkit";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import {
  type HealthReport,
  healthReport,
  type MetricsServer,
  type RouteHandler,
  startMetricsServer,
} from "../src/index.js";

let server: MetricsServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

function state() {
  return { health: healthReport({ redis: { ok: true } }) as HealthReport, ready: true, healthThrows: false };
}

async function start(
  s: ReturnType<typeof state>,
  extra: { checkTimeoutMs?: number; routes?: Readonly<Record<string, RouteHandler>> } = {},
) {
  const registry = new Registry();
  server = await startMetricsServer({
    port: 0,
    registry,
    health: async () => {
      if (s.healthThrows) throw new Error("redis ping failed");
      return s.health;
    },
    ready: () => s.ready,
    ...extra,
  });
  return server;
}

describe("startMetricsServer", () => {
  it("binds 127.0.0.1 on a free port and serves prometheus text", async () => {
    const srv = await start(state());
    expect(srv.host).toBe("127.0.0.1");
    expect(srv.port).toBeGreaterThan(0);
    const res = await fetch(`http://127.0.0.1:${srv.port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it("answers /health 200 only when healthy, else 503 with the failing checks", async () => {
    const s = state();
    const srv = await start(s);
    let r = await httpGet(srv.port, "/health");
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ status: "ok", checks: { redis: { ok: true } } });

    s.health = healthReport({ redis: { ok: false, detail: "ping timed out" }, loop: { ok: true } });
    r = await httpGet(srv.port, "/health");
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body)).toMatchObject({ status: "fail", checks: { redis: { ok: false } } });

    s.healthThrows = true;
    r = await httpGet(srv.port, "/health");
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body).checks.health.detail).toContain("redis ping failed");
  });

  it("answers /health 503 when the health function does not answer in time", async () => {
    const srv = await startMetricsServer({
      port: 0,
      registry: new Registry(),
      health: () => new Promise<HealthReport>(() => undefined),
      ready: () => true,
      checkTimeoutMs: 50,
    });
    server = srv;
    const r = await httpGet(srv.port, "/health");
    expect(r.status).toBe(503);
  });

  it("answers /ready 200/503 and 404 for other paths", async () => {
    const s = state();
    const srv = await start(s);
    expect((await httpGet(srv.port, "/ready")).status).toBe(200);
    s.ready = false;
    expect((await httpGet(srv.port, "/ready")).status).toBe(503);
    expect((await httpGet(srv.port, "/")).status).toBe(404);
    expect((await httpGet(srv.port, "/metrics/extra")).status).toBe(404);
    const post = await fetch(`http://127.0.0.1:${srv.port}/metrics`, { method: "POST" });
    expect(post.status).toBe(405);
  });

  it("serves extra routes by exact path with their status and headers; HEAD gets no body, POST 405", async () => {
    let calls = 0;
    const srv = await start(state(), {
      routes: {
        "/": async () => {
          calls++;
          return {
            status: 503,
            contentType: "text/html; charset=utf-8",
            body: "<p>down</p>",
            headers: { "Content-Security-Policy": "default-src 'none'" },
          };
        },
      },
    });
    const res = await fetch(`http://127.0.0.1:${srv.port}/?refresh=1`);
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toBe("default-src 'none'");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.text()).toBe("<p>down</p>");
    const head = await fetch(`http://127.0.0.1:${srv.port}/`, { method: "HEAD" });
    expect(head.status).toBe(503);
    expect(await head.text()).toBe("");
    for (const method of ["POST", "PUT", "DELETE"]) {
      const r = await fetch(`http://127.0.0.1:${srv.port}/`, { method });
      expect(r.status, method).toBe(405);
      expect(r.headers.get("allow")).toBe("GET, HEAD");
    }
    expect(calls).toBe(2);
    expect((await httpGet(srv.port, "/index.html")).status).toBe(404);
    expect((await httpGet(srv.port, "/toString")).status).toBe(404);
    expect((await httpGet(srv.port, "/health")).status).toBe(200);
  });

  it("answers 500 when a route throws", async () => {
    const srv = await start(state(), {
      routes: { "/status.json": () => Promise.reject(new Error("boom")) },
    });
    expect((await httpGet(srv.port, "/status.json")).status).toBe(500);
  });

  it("closes, and refuses a port already in use", async () => {
    const srv = await start(state());
    await expect(
      startMetricsServer({
        port: srv.port,
        registry: new Registry(),
        health: async () => state().health,
        ready: () => true,
      }),
    ).rejects.toThrow(/EADDRINUSE/);
    await srv.close();
    await expect(httpGet(srv.port, "/ready")).rejects.toThrow();
  });
});
