import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";
import type { RedisConfig } from "./redis-config.js";

export type RedisRole = "main" | "blocking" | "subscriber";

/** The Redis fields of a service config (a RedisConfig or any config that spreads `redisConfigShape`). */
export type RedisConnectionConfig = Pick<
  RedisConfig,
  | "REDIS_URL"
  | "REDIS_HOST"
  | "REDIS_PORT"
  | "REDIS_DB"
  | "REDIS_USERNAME"
  | "REDIS_PASSWORD"
  | "REDIS_SENTINELS"
  | "REDIS_SENTINEL_NAME"
  | "REDIS_SENTINEL_PASSWORD"
>;

/** Reconnect delay: 50 ms doubling up to 2 s, forever. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(50 * 2 ** Math.max(0, attempt - 1), 2000);
}

/** Upper bound of one command on the main connection (also while disconnected). */
export const MAIN_COMMAND_TIMEOUT_MS = 1000;
/** Upper bound of one command on the blocking connection: XREADGROUP BLOCK ≤ 1000 ms plus margin. */
export const BLOCKING_COMMAND_TIMEOUT_MS = 5000;

/**
 * ioredis options for a config: Sentinel when REDIS_SENTINELS is set, else REDIS_URL, else host/port/db.
 * Connection behaviour (all roles): reconnect forever with capped backoff.
 * `main` and `blocking` fail fast: no offline queue (a command issued while disconnected rejects at once),
 * commands in flight when the connection drops are rejected (not silently re-sent), and every command has a
 * timeout. `subscriber` queues SUBSCRIBE while reconnecting and re-subscribes automatically.
 */
export function redisOptionsFromConfig(cfg: RedisConnectionConfig, role: RedisRole = "main"): RedisOptions {
  const base: RedisOptions = {
    retryStrategy: reconnectDelayMs,
    connectTimeout: 2000,
    enableReadyCheck: true,
  };
  const roleOpts: RedisOptions =
    role === "subscriber"
      ? { enableOfflineQueue: true, maxRetriesPerRequest: null, autoResubscribe: true }
      : {
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
          autoResendUnfulfilledCommands: false,
          commandTimeout: role === "blocking" ? BLOCKING_COMMAND_TIMEOUT_MS : MAIN_COMMAND_TIMEOUT_MS,
        };
  const auth: RedisOptions = {
    ...(cfg.REDIS_USERNAME !== undefined ? { username: cfg.REDIS_USERNAME } : {}),
    ...(cfg.REDIS_PASSWORD !== undefined ? { password: cfg.REDIS_PASSWORD } : {}),
  };
  if (cfg.REDIS_SENTINELS !== undefined) {
    return {
      ...base,
      ...roleOpts,
      ...auth,
      sentinels: cfg.REDIS_SENTINELS.map((s) => ({ host: s.host, port: s.port })),
      name: cfg.REDIS_SENTINEL_NAME,
      role: "master",
      db: cfg.REDIS_DB,
      sentinelRetryStrategy: reconnectDelayMs,
      ...(cfg.REDIS_SENTINEL_PASSWORD !== undefined ? { sentinelPassword: cfg.REDIS_SENTINEL_PASSWORD } : {}),
    };
  }
  if (cfg.REDIS_URL !== undefined) {
    const url = new URL(cfg.REDIS_URL);
    const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
    return {
      ...base,
      ...roleOpts,
      host: url.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
      port: url.port === "" ? 6379 : Number(url.port),
      db: Number.isInteger(db) ? db : 0,
      ...(url.username !== "" ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password !== "" ? { password: decodeURIComponent(url.password) } : auth),
      ...(url.protocol === "rediss:" ? { tls: {} } : {}),
    };
  }
  return { ...base, ...roleOpts, ...auth, host: cfg.REDIS_HOST, port: cfg.REDIS_PORT, db: cfg.REDIS_DB };
}

export interface CreateRedisOptions {
  /** Connection name (shown in CLIENT LIST as `<name>:<role>`), e.g. the service name. */
  name: string;
  role?: RedisRole;
  logger: Logger;
  /** Extra ioredis options (e.g. enableAutoPipelining). */
  overrides?: RedisOptions;
}

/**
 * A Redis connection that never crashes the process: connection errors are logged once per outage, the
 * client reconnects forever (50 ms … 2 s), and (main/blocking) commands fail fast while Redis is down.
 * Use one `blocking` connection per XREADGROUP BLOCK loop, separate from `main`.
 */
export function createRedis(cfg: RedisConnectionConfig, opts: CreateRedisOptions): Redis {
  const role = opts.role ?? "main";
  const log = opts.logger.child({ component: "redis", connection: `${opts.name}:${role}` });
  const redis = new Redis({
    ...redisOptionsFromConfig(cfg, role),
    connectionName: `${opts.name}:${role}`.replace(/\s/g, "_"),
    ...opts.overrides,
  });
  let down = false;
  let everReady = false;
  redis.on("error", (err: Error) => {
    if (down) return;
    down = true;
    log.warn(
      { err: { message: err.message, code: (err as NodeJS.ErrnoException).code } },
      "redis unavailable",
    );
  });
  redis.on("ready", () => {
    if (down || !everReady)
      log.info({ db: redisDb(redis) }, everReady ? "redis reconnected" : "redis connected");
    down = false;
    everReady = true;
  });
  redis.on("close", () => {
    if (everReady && !down && redis.status !== "end") {
      down = true;
      log.warn({}, "redis connection closed");
    }
  });
  return redis;
}

/** The database number a connection uses (for keyspace channels `__keyspace@<db>__:<key>`). */
export function redisDb(redis: Redis): number {
  return redis.options.db ?? 0;
}

/** true when a PING answers within `timeoutMs` (default 500 ms); never throws. */
export async function redisHealthy(redis: Redis, timeoutMs = 500): Promise<boolean> {
  if (redis.status !== "ready") return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
      timer.unref();
    });
    return (await Promise.race([redis.ping(), timeout])) === "PONG";
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Resolve true once the connection is ready, false after `timeoutMs`. */
export function redisReady(redis: Redis, timeoutMs = 10_000): Promise<boolean> {
  if (redis.status === "ready") return Promise.resolve(true);
  return new Promise((resolve) => {
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      resolve(false);
    }, timeoutMs);
    timer.unref();
    redis.once("ready", onReady);
  });
}

/** Close a connection: QUIT when connected (bounded), else disconnect. Never throws. */
export async function closeRedis(redis: Redis, timeoutMs = 1000): Promise<void> {
  if (redis.status === "end") return;
  if (redis.status !== "ready") {
    redis.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    redis.quit().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
  redis.disconnect();
}
