import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { eventually } from "./eventually.js";
import { freePort } from "./ports.js";

export type TestRedisKind = "local" | "container";

export interface TestRedisOptions {
  /** notify-keyspace-events value; default "KEA" (on). Pass "" for notifications off. */
  notifyKeyspaceEvents?: string;
  /** Turn on AOF (appendfsync always) so a restart keeps the data. Local kind only. */
  appendOnly?: boolean;
  /** Extra redis-server arguments (local kind), e.g. ["--replicaof", "127.0.0.1", "6379"]. */
  extraArgs?: string[];
  /** Force a port (local kind). */
  port?: number;
}

export interface TestRedis {
  readonly kind: TestRedisKind;
  readonly host: string;
  readonly port: number;
  /** redis://host:port/db */
  url(db?: number): string;
  /** A new client; closed by stop(). */
  client(db?: number): Redis;
  /** Stop the server process but keep its data dir (local kind), to simulate an outage. */
  stopServer(): Promise<void>;
  /** Start it again on the same port with the same data dir (local kind). */
  startServer(): Promise<void>;
  /** Stop everything and remove temporary state. */
  stop(): Promise<void>;
}

let containerRuntimeAvailable: boolean | null = null;
let announced = false;

function announce(kind: TestRedisKind, why: string): void {
  if (announced) return;
  announced = true;
  process.stderr.write(`[testkit] test redis: ${kind} (${why})\n`);
}

async function containerRuntimeReachable(): Promise<boolean> {
  if (containerRuntimeAvailable !== null) return containerRuntimeAvailable;
  try {
    const tc = await import("testcontainers");
    await Promise.race([
      tc.getContainerRuntimeClient(),
      new Promise((_, reject) => setTimeout(() => reject(new Error("probe timeout")), 3000).unref()),
    ]);
    containerRuntimeAvailable = true;
  } catch {
    containerRuntimeAvailable = false;
  }
  return containerRuntimeAvailable;
}

/**
 * A real redis-server for one test file: testcontainers when a container runtime is reachable, else a local
 * `redis-server` on a free loopback port with no persistence and keyspace notifications on.
 * `TEST_REDIS=local|container|auto` (default auto) forces the choice.
 */
export async function startTestRedis(opts: TestRedisOptions = {}): Promise<TestRedis> {
  const want = (process.env.TEST_REDIS ?? "auto").toLowerCase();
  const needsLocal = opts.appendOnly === true || (opts.extraArgs?.length ?? 0) > 0 || opts.port !== undefined;
  if (want === "container" || (want === "auto" && !needsLocal && (await containerRuntimeReachable()))) {
    announce("container", want === "container" ? "TEST_REDIS=container" : "container runtime reachable");
    return startContainerRedis(opts);
  }
  announce("local", want === "local" ? "TEST_REDIS=local" : "no container runtime; local redis-server");
  return startLocalRedis(opts);
}

async function startContainerRedis(opts: TestRedisOptions): Promise<TestRedis> {
  const { RedisContainer } = await import("@testcontainers/redis");
  const notify = opts.notifyKeyspaceEvents ?? "KEA";
  const container = await new RedisContainer("redis:7.0")
    .withCommand(["redis-server", "--save", "", "--appendonly", "no", "--notify-keyspace-events", notify])
    .start();
  const host = container.getHost();
  const port = container.getMappedPort(6379);
  const clients: Redis[] = [];
  return {
    kind: "container",
    host,
    port,
    url: (db = 0) => `redis://${host}:${port}/${db}`,
    client(db = 0) {
      const c = new Redis({ host, port, db, lazyConnect: false, maxRetriesPerRequest: 3 });
      c.on("error", () => undefined);
      clients.push(c);
      return c;
    },
    async stopServer() {
      throw new Error("stopServer is only supported for the local redis kind");
    },
    async startServer() {
      throw new Error("startServer is only supported for the local redis kind");
    },
    async stop() {
      for (const c of clients) c.disconnect();
      await container.stop();
    },
  };
}

async function startLocalRedis(opts: TestRedisOptions): Promise<TestRedis> {
  const host = "127.0.0.1";
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "quantum-redis-"));
  const notify = opts.notifyKeyspaceEvents ?? "KEA";
  const args = [
    "--port",
    String(port),
    "--bind",
    host,
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    opts.appendOnly ? "yes" : "no",
    ...(opts.appendOnly ? ["--appendfsync", "always"] : []),
    "--notify-keyspace-events",
    notify,
    "--protected-mode",
    "no",
    "--logfile",
    "",
    "--loglevel",
    "warning",
    ...(opts.extraArgs ?? []),
  ];
  let proc: ChildProcess | null = null;
  const clients: Redis[] = [];

  const startServer = async (): Promise<void> => {
    const p = spawn("redis-server", args, { stdio: ["ignore", "ignore", "pipe"] });
    proc = p;
    let stderr = "";
    p.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<never>((_, reject) => {
      p.once("error", (err) => reject(new Error(`redis-server failed to start: ${err.message}`)));
      p.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${stderr}`)));
    });
    exited.catch(() => undefined);
    const probe = new Redis({
      host,
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on("error", () => undefined);
    try {
      await Promise.race([
        exited,
        eventually(
          async () => {
            if (probe.status !== "ready") {
              await probe.connect().catch(() => undefined);
            }
            return (await probe.ping()) === "PONG";
          },
          { timeoutMs: 10_000, intervalMs: 10, message: "redis-server ping" },
        ),
      ]);
    } finally {
      probe.disconnect();
    }
  };

  const stopServer = async (): Promise<void> => {
    const p = proc;
    proc = null;
    if (p === null || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => p.kill("SIGKILL"), 5000);
      t.unref();
      p.once("exit", () => {
        clearTimeout(t);
        resolve();
      });
      p.kill("SIGTERM");
    });
  };

  await startServer();
  return {
    kind: "local",
    host,
    port,
    url: (db = 0) => `redis://${host}:${port}/${db}`,
    client(db = 0) {
      const c = new Redis({ host, port, db, maxRetriesPerRequest: 3 });
      c.on("error", () => undefined);
      clients.push(c);
      return c;
    },
    stopServer,
    startServer,
    async stop() {
      for (const c of clients) c.disconnect();
      await stopServer();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
