import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { streams } from "@quantum/contracts";
import {
  type ChildName,
  childEntry,
  childEnv,
  closeClient,
  connectWithRetry,
  freePort,
  ManagedChild,
  redisServerArgs,
  SERVICES,
  type ServiceName,
  waitFor200,
} from "@quantum/stack";
import type { Redis } from "ioredis";

/** The bench's own redis-server (loopback, no persistence, keyspace notifications on). */
export interface BenchRedis {
  readonly url: string;
  readonly port: number;
  readonly client: Redis;
  /** A new connection (closed by stop()). */
  connection(): Promise<Redis>;
  stop(): Promise<void>;
}

export async function startBenchRedis(): Promise<BenchRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "quantum-bench-"));
  const child = new ManagedChild(
    {
      name: "redis-server",
      command: "redis-server",
      args: redisServerArgs(port, dir),
      env: { PATH: process.env.PATH ?? "" },
    },
    { onLine: () => undefined },
  );
  child.start();
  const url = `redis://127.0.0.1:${port}/0`;
  const client = await connectWithRetry(url, 10_000);
  const extra: Redis[] = [];
  return {
    url,
    port,
    client,
    async connection() {
      const c = await connectWithRetry(url, 5000);
      extra.push(c);
      return c;
    },
    async stop() {
      for (const c of [client, ...extra]) await closeClient(c);
      await child.stop(5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RunningProc {
  readonly name: ChildName;
  readonly child: ManagedChild;
  readonly port: number | null;
}

/**
 * Start one service or dev tool the way the stack does (same entries, same paper-mode environment),
 * plus `extraEnv` (and `overrides` over what the stack forces); waits for /ready (services) before returning.
 */
export async function startProc(
  root: string,
  name: ChildName,
  redisUrl: string,
  symbols: readonly string[],
  extraEnv: Record<string, string>,
  opts: { waitReady?: boolean; overrides?: Record<string, string> } = {},
): Promise<RunningProc> {
  const isService = (Object.keys(SERVICES) as string[]).includes(name);
  const port = isService ? await freePort() : null;
  const ports = { "apply-layer": 0, "position-state-brain": 0, "decision-intelligence": 0 } as Record<
    ServiceName,
    number
  >;
  if (isService) ports[name as ServiceName] = port as number;
  const env = childEnv(name, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...extraEnv },
    redisUrl,
    symbols,
    feederSymbols: symbols,
    feederIntervalSec: 5,
    logLevel: "warn",
    ports,
  });
  // A bench phase may replace what the stack forces (e.g. a venue other than paper).
  Object.assign(env, opts.overrides ?? {});
  // BENCH_NODE_ARGS: node flags for the started processes only (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
  const childLog = process.env.BENCH_CHILD_LOG;
  const child = new ManagedChild(
    { name, command: process.execPath, args: [...nodeArgs, childEntry(root, name)], env, cwd: root },
    {
      // BENCH_CHILD_LOG=<file>: the started processes' output lines with the bench's clock (ms), e.g. beside
      // BENCH_NODE_ARGS=--trace-gc to see where the collections fall in a phase.
      onLine:
        childLog === undefined
          ? () => undefined
          : (line: string) => appendFileSync(childLog, `${name} ${performance.now().toFixed(1)} ${line}\n`),
      tailLines: 30,
    },
  );
  child.start();
  if (port !== null && opts.waitReady !== false) {
    const ok = await waitFor200(port, "/ready", 30_000, () => child.running);
    if (!ok) throw new Error(`${name} not ready: ${child.tail().join("\n")}`);
  }
  return { name, child, port };
}

export interface SeenEntry {
  /** performance.now() when the bench read the entry. */
  readonly at: number;
  readonly id: string;
  readonly fields: Record<string, string>;
}

/**
 * Resolves plan ids as their entries appear on a stream (apply.plan or apply.result), read with XREAD BLOCK
 * on a dedicated connection, with the time the bench saw the entry.
 */
export class StreamWatcher {
  private readonly waiters = new Map<string, (seen: SeenEntry) => void>();
  private readonly early = new Map<string, SeenEntry>();
  private running = true;
  private readonly loop: Promise<void>;

  private constructor(
    private readonly conn: Redis,
    private readonly stream: string,
    private last: string,
  ) {
    this.loop = this.run();
  }

  /** Watch `stream` from its current end (`conn` is used for XREAD BLOCK only). */
  static async start(conn: Redis, stream: string = streams.applyResult): Promise<StreamWatcher> {
    const tail = (await conn.xrevrange(stream, "+", "-", "COUNT", 1)) as [string, string[]][];
    return new StreamWatcher(conn, stream, tail[0]?.[0] ?? "0-0");
  }

  private async run(): Promise<void> {
    while (this.running) {
      const reply = (await this.conn
        .xread("BLOCK", 200, "STREAMS", this.stream, this.last)
        .catch(() => null)) as [string, [string, string[]][]][] | null;
      const at = performance.now();
      for (const [, entries] of reply ?? []) {
        for (const [id, flat] of entries) {
          this.last = id;
          const fields: Record<string, string> = {};
          for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
          const seen = { at, id, fields };
          const planId = fields.plan_id ?? "";
          const w = this.waiters.get(planId);
          if (w !== undefined) {
            this.waiters.delete(planId);
            w(seen);
          } else {
            this.early.set(planId, seen);
          }
        }
      }
    }
  }

  wait(planId: string, timeoutMs = 10_000): Promise<SeenEntry> {
    const seen = this.early.get(planId);
    if (seen !== undefined) {
      this.early.delete(planId);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete(planId);
        reject(new Error(`no ${this.stream} entry for plan ${planId} within ${timeoutMs} ms`));
      }, timeoutMs);
      t.unref();
      this.waiters.set(planId, (s) => {
        clearTimeout(t);
        resolve(s);
      });
    });
  }

  /** Forget entries nobody waited for (plans/results of the load phases). */
  clearUnclaimed(): void {
    this.early.clear();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
