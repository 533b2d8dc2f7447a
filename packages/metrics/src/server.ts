import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { errorText } from "@quantum/contracts";
import type { Registry } from "prom-client";
import type { HealthReport } from "./health.js";

/** The few logger methods the server uses (a pino logger fits). */
export interface MetricsServerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface MetricsServerOptions {
  /** Bind address; default 127.0.0.1 (METRICS_HOST). */
  host?: string;
  /** Port; 0 picks a free one (the returned `port` tells which). */
  port: number;
  registry: Registry;
  /** Called per GET /health; "ok" → 200, anything else (or a throw, or no answer in time) → 503. */
  health: () => Promise<HealthReport>;
  /** Called per GET /ready; true → 200, else 503. */
  ready: () => boolean | Promise<boolean>;
  logger?: MetricsServerLogger;
  /** Upper bound for one health/ready evaluation; default 2000 ms. */
  checkTimeoutMs?: number;
  /**
   * More read-only GET/HEAD pages on the same listener, by exact path (a service's status page). A handler
   * that throws answers 500; it is not bounded by checkTimeoutMs.
   */
  routes?: Readonly<Record<string, RouteHandler>>;
}

/** What a route answers. */
export interface RouteResponse {
  status: number;
  contentType: string;
  body: string;
  /** Extra response headers (Content-Security-Policy, ...). */
  headers?: Readonly<Record<string, string>>;
}

export type RouteHandler = () => Promise<RouteResponse>;

export interface MetricsServer {
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

const JSON_TYPE = "application/json; charset=utf-8";

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  res.writeHead(status, { ...headers, "Content-Type": contentType, "Cache-Control": "no-store" });
  res.end(body);
}

const BUILT_IN_PATHS = ["/metrics", "/health", "/ready"];

/**
 * Serve GET /metrics (Prometheus text), /health (200 + JSON only when healthy, else 503 + JSON), /ready
 * (200/503) and the given routes on host:port. Other paths answer 404, other methods 405. HEAD answers
 * the headers of GET without the body.
 */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const host = opts.host ?? "127.0.0.1";
  const checkTimeoutMs = opts.checkTimeoutMs ?? 2000;
  const { registry, logger } = opts;
  const routes = opts.routes ?? {};

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (route === undefined && !BUILT_IN_PATHS.includes(path)) {
      send(res, 404, JSON_TYPE, JSON.stringify({ error: "not found" }));
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD");
      send(res, 405, JSON_TYPE, JSON.stringify({ error: "method not allowed" }));
      return;
    }
    if (route !== undefined) {
      const r = await route();
      send(res, r.status, r.contentType, r.body, r.headers);
      return;
    }
    if (path === "/metrics") {
      try {
        send(res, 200, registry.contentType, await registry.metrics());
      } catch (err) {
        logger?.warn({ err }, "metrics collection failed");
        send(res, 500, "text/plain; charset=utf-8", `metrics collection failed: ${errorText(err)}\n`);
      }
      return;
    }
    if (path === "/health") {
      let report: HealthReport;
      try {
        report = await withTimeout(opts.health(), checkTimeoutMs, "health check");
      } catch (err) {
        report = { status: "fail", checks: { health: { ok: false, detail: errorText(err) } } };
      }
      const ok = report.status === "ok";
      send(
        res,
        ok ? 200 : 503,
        JSON_TYPE,
        JSON.stringify({ status: ok ? "ok" : "fail", checks: report.checks }),
      );
      return;
    }
    let ready = false;
    let detail: string | undefined;
    try {
      ready = await withTimeout(Promise.resolve(opts.ready()), checkTimeoutMs, "readiness check");
    } catch (err) {
      detail = errorText(err);
    }
    send(
      res,
      ready === true ? 200 : 503,
      JSON_TYPE,
      JSON.stringify(ready === true ? { ready: true } : { ready: false, ...(detail ? { detail } : {}) }),
    );
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger?.warn({ err }, "metrics server request failed");
      if (!res.headersSent) send(res, 500, JSON_TYPE, JSON.stringify({ error: "internal error" }));
      else res.end();
    });
  });
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen(opts.port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  server.on("error", (err) => logger?.warn({ err }, "metrics server error"));
  const port = (server.address() as AddressInfo).port;
  logger?.info({ host, port }, "metrics server listening");

  let closing: Promise<void> | null = null;
  return {
    port,
    host,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
