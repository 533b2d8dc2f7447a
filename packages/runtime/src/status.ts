import { hostname } from "node:os";
import { errorText, keys } from "@quantum/contracts";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

export interface StatusHeartbeatOptions {
  service: string;
  mode: string;
  venue: string;
  consumerName: string;
  metricsPort: number;
  version: string;
  /** Service-specific fields written with the others (the Apply Layer's `allowlist`). */
  extra?: Readonly<Record<string, string>>;
  /** Refresh interval; default 5000 ms. */
  intervalMs?: number;
  /** Key TTL; default 30 s. */
  ttlSec?: number;
  logger?: Logger;
}

export interface StatusHeartbeat {
  /** Write the status hash now. */
  beat(): Promise<void>;
  /** Stop refreshing (the key expires after its TTL). */
  stop(): Promise<void>;
}

/**
 * Keep `quantum:service:<service>:status` (fields service, mode, venue, pid, hostname, consumer_name,
 * started_at, heartbeat_ts, version, metrics_port) fresh: written at once and every intervalMs with a TTL.
 * Failures (Redis down) are logged once per outage and retried on the next beat.
 */
export function startStatusHeartbeat(redis: Redis, opts: StatusHeartbeatOptions): StatusHeartbeat {
  const key = keys.serviceStatus(opts.service);
  const ttlSec = opts.ttlSec ?? 30;
  const startedAt = (Date.now() / 1000).toFixed(3);
  const log = opts.logger?.child({ component: "status-heartbeat" });
  let failing = false;
  let stopped = false;
  let current: Promise<void> = Promise.resolve();

  async function write(): Promise<void> {
    try {
      await redis
        .multi()
        .hset(key, {
          service: opts.service,
          mode: opts.mode,
          venue: opts.venue,
          pid: String(process.pid),
          hostname: hostname(),
          consumer_name: opts.consumerName,
          started_at: startedAt,
          heartbeat_ts: (Date.now() / 1000).toFixed(3),
          version: opts.version,
          metrics_port: String(opts.metricsPort),
          ...opts.extra,
        })
        .expire(key, ttlSec)
        .exec();
      if (failing) log?.info({ key }, "status heartbeat resumed");
      failing = false;
    } catch (err) {
      if (!failing) log?.warn({ err: { message: errorText(err) } }, "status heartbeat failed");
      failing = true;
    }
  }

  const beat = (): Promise<void> => {
    current = current.then(write);
    return current;
  };
  const timer = setInterval(() => {
    if (!stopped) void beat();
  }, opts.intervalMs ?? 5000);
  timer.unref();
  void beat();

  return {
    beat,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}
