import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, freePort } from "@quantum/testkit";
import { Redis } from "ioredis";

export const SENTINEL_MASTER = "qp3";
const HOST = "127.0.0.1";

interface Proc {
  readonly port: number;
  readonly proc: ChildProcess;
  stderr: string;
}

function spawnRedis(args: string[], port: number): Proc {
  const p: Proc = {
    port,
    proc: spawn("redis-server", args, { stdio: ["ignore", "ignore", "pipe"] }),
    stderr: "",
  };
  p.proc.stderr?.on("data", (d: Buffer) => {
    p.stderr += d.toString();
  });
  return p;
}

function probe(port: number): Redis {
  const c = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => 100,
  });
  c.on("error", () => undefined);
  return c;
}

async function exit(p: Proc, signal: NodeJS.Signals): Promise<void> {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return;
  const done = new Promise<void>((resolve) => p.proc.once("exit", () => resolve()));
  p.proc.kill(signal);
  await done;
}

export interface SentinelRig {
  readonly primaryPort: number;
  readonly replicaPort: number;
  readonly sentinels: ReadonlyArray<{ host: string; port: number }>;
  /** REDIS_SENTINELS / REDIS_SENTINEL_NAME for the services. */
  readonly env: Record<string, string>;
  /** A client that finds the master through Sentinel (follows a failover). */
  client(): Redis;
  /** SIGKILL the primary redis-server; returns the time it died. */
  killPrimary(): Promise<number>;
  /** The master address every sentinel reports. */
  masterPorts(): Promise<number[]>;
  stop(): Promise<void>;
}

/**
 * One primary, one replica (both with keyspace notifications, no persistence) and three sentinels
 * (quorum 2, down-after 1000 ms, failover-timeout 5000 ms) on free loopback ports, configs in a temp dir.
 * Resolves once the replica is in sync and every sentinel knows the replica and the other sentinels.
 */
export async function startSentinelRig(): Promise<SentinelRig> {
  const dir = mkdtempSync(join(tmpdir(), "quantum-sentinel-"));
  const procs: Proc[] = [];
  const clients: Redis[] = [];
  const common = (port: number, name: string) => [
    "--port",
    String(port),
    "--bind",
    HOST,
    "--dir",
    dir,
    "--dbfilename",
    `${name}.rdb`,
    "--save",
    "",
    "--appendonly",
    "no",
    "--notify-keyspace-events",
    "KEA",
    "--protected-mode",
    "no",
    "--logfile",
    "",
    "--loglevel",
    "warning",
  ];
  const primaryPort = await freePort();
  const replicaPort = await freePort();
  const primary = spawnRedis(common(primaryPort, "primary"), primaryPort);
  procs.push(primary);
  const replica = spawnRedis(
    [...common(replicaPort, "replica"), "--replicaof", HOST, String(primaryPort)],
    replicaPort,
  );
  procs.push(replica);
  const sentinels: Array<{ host: string; port: number }> = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const conf = join(dir, `sentinel-${i}.conf`);
    writeFileSync(
      conf,
      [
        `port ${port}`,
        `bind ${HOST}`,
        `dir ${dir}`,
        `logfile ""`,
        "loglevel warning",
        `sentinel monitor ${SENTINEL_MASTER} ${HOST} ${primaryPort} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER} 1000`,
        `sentinel failover-timeout ${SENTINEL_MASTER} 5000`,
        `sentinel parallel-syncs ${SENTINEL_MASTER} 1`,
        "",
      ].join("\n"),
    );
    procs.push(spawnRedis([conf, "--sentinel"], port));
    sentinels.push({ host: HOST, port });
  }

  const stop = async (): Promise<void> => {
    for (const c of clients) c.disconnect();
    await Promise.all(procs.map((p) => exit(p, "SIGKILL")));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const replicaProbe = probe(replicaPort);
    clients.push(replicaProbe);
    await eventually(
      async () => {
        const info = await replicaProbe.info("replication");
        if (!info.includes("master_link_status:up")) throw new Error("replica not in sync");
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 100, message: "replica in sync" },
    );
    for (const s of sentinels) {
      const c = probe(s.port);
      clients.push(c);
      await eventually(
        async () => {
          const replicas = (await c.call("SENTINEL", "REPLICAS", SENTINEL_MASTER)) as unknown[];
          const peers = (await c.call("SENTINEL", "SENTINELS", SENTINEL_MASTER)) as unknown[];
          if (replicas.length < 1 || peers.length < 2) {
            throw new Error(`sentinel ${s.port}: ${replicas.length} replicas, ${peers.length} peers`);
          }
          return true;
        },
        { timeoutMs: 30_000, intervalMs: 200, message: `sentinel ${s.port} discovered the topology` },
      );
    }
  } catch (err) {
    const logs = procs.map((p) => `:${p.port} ${p.stderr.slice(-500)}`).join("\n");
    await stop();
    throw new Error(`${String(err)}\n${logs}`);
  }

  return {
    primaryPort,
    replicaPort,
    sentinels,
    env: {
      REDIS_SENTINELS: sentinels.map((s) => `${s.host}:${s.port}`).join(","),
      REDIS_SENTINEL_NAME: SENTINEL_MASTER,
    },
    client() {
      const c = new Redis({ sentinels, name: SENTINEL_MASTER, role: "master", maxRetriesPerRequest: 3 });
      c.on("error", () => undefined);
      clients.push(c);
      return c;
    },
    async killPrimary() {
      await exit(primary, "SIGKILL");
      return Date.now();
    },
    async masterPorts() {
      const out: number[] = [];
      for (const s of sentinels) {
        const c = clients.find((x) => x.options.port === s.port) ?? probe(s.port);
        const addr = (await c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", SENTINEL_MASTER)) as string[];
        out.push(Number(addr[1]));
      }
      return out;
    },
    stop,
  };
}
