import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { keys } from "@quantum/contracts";
import type { Redis } from "ioredis";

export const CLI_MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "main.js");

export function requireBuiltCli(): void {
  if (!existsSync(CLI_MAIN))
    throw new Error(`${CLI_MAIN} missing: run pnpm --filter @quantum/cli build first`);
}

export interface CtlRun {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run the built quantumctl as a child process with a clean environment (plus `env`). */
export function runCtl(args: readonly string[], env: Record<string, string> = {}): Promise<CtlRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.once("error", reject);
    child.once("close", (code, signal) =>
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started }),
    );
  });
}

/** A loopback HTTP server answering /health with a fixed status; `close()` frees the port. */
export async function healthServer(status: number): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    res.writeHead(req.url === "/health" ? status : 404, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: status === 200 ? "ok" : "unhealthy" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Write a service status hash as the runtime's heartbeat does. */
export async function writeServiceStatus(
  redis: Redis,
  service: string,
  fields: { mode: string; venue: string; metricsPort?: number; heartbeatAgeSec?: number; nowMs?: number },
): Promise<void> {
  const now = (fields.nowMs ?? Date.now()) / 1000;
  await redis.hset(keys.serviceStatus(service), {
    service,
    mode: fields.mode,
    venue: fields.venue,
    pid: "4242",
    hostname: "testhost",
    consumer_name: `testhost-${service}`,
    started_at: (now - 100).toFixed(3),
    heartbeat_ts: (now - (fields.heartbeatAgeSec ?? 1)).toFixed(3),
    version: "0.1.0",
    metrics_port: String(fields.metricsPort ?? 0),
  });
  await redis.expire(keys.serviceStatus(service), 30);
}

/** Epoch ms of a UTC time. */
export function utc(y: number, mo: number, d: number, h: number, mi: number, s = 0): number {
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

/** Replace the 5m window as P3.5 does: decision counts hash + reason ZSET. */
export async function writeWindow5m(
  redis: Redis,
  decisions: Record<string, number>,
  reasons: Record<string, number>,
): Promise<void> {
  const tx = redis.multi().del(keys.p35DecisionCounts("5m"), keys.p35ReasonTop("5m"));
  if (Object.keys(decisions).length > 0) {
    tx.hset(
      keys.p35DecisionCounts("5m"),
      Object.fromEntries(Object.entries(decisions).map(([k, v]) => [k, String(v)])),
    );
  }
  const members = Object.entries(reasons).flatMap(([r, s]) => [s, r]);
  if (members.length > 0) tx.zadd(keys.p35ReasonTop("5m"), ...members);
  await tx.exec();
}
