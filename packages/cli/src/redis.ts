import { errorText } from "@quantum/contracts";
import { Redis } from "ioredis";
import { RedisUnreachableError } from "./errors/redis-unreachable-error.js";
import { UsageError } from "./errors/usage-error.js";

export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0";

export interface ConnectOptions {
  /** redis:// or rediss:// URL (db in the path). */
  url: string;
  /** Upper bound of one command; default 5000 ms. WAIT/WAITAOF timeouts must stay below it. */
  commandTimeoutMs?: number;
  /** Reconnect after a lost connection (status --watch). Default false: fail fast. */
  reconnect?: boolean;
  /** Connect timeout; default 2000 ms. */
  connectTimeoutMs?: number;
}

/** The URL with its password replaced by `***` (for messages). */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}

/** Reject anything that is not a redis:// or rediss:// URL with a usable port and db (usage error). */
export function validateRedisUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--redis-url: not a URL: ${redactRedisUrl(url)} (expected redis://host:port/db)`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new UsageError(`--redis-url: expected redis:// or rediss://, got ${u.protocol}`);
  }
  const db = u.pathname.length > 1 ? u.pathname.slice(1) : "0";
  if (!/^\d{1,2}$/.test(db)) throw new UsageError(`--redis-url: database "${db}" is not a number`);
}

/**
 * Connect and wait until the connection is ready. Fail fast: no offline queue, one attempt, a bounded
 * connect time and a timeout on every command. Throws RedisUnreachableError.
 */
export async function connectRedis(opts: ConnectOptions): Promise<Redis> {
  validateRedisUrl(opts.url);
  const reconnect = opts.reconnect ?? false;
  const redis = new Redis(opts.url, {
    lazyConnect: true,
    connectTimeout: opts.connectTimeoutMs ?? 2000,
    commandTimeout: opts.commandTimeoutMs ?? 5000,
    maxRetriesPerRequest: reconnect ? 0 : 1,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    retryStrategy: reconnect ? (attempt: number) => Math.min(100 * attempt, 2000) : () => null,
  });
  // Errors surface as rejected commands; without a listener ioredis would print them. The first one is
  // kept: connect() itself only reports "Connection is closed".
  let firstError: string | null = null;
  redis.on("error", (err: Error) => {
    firstError ??= err.message;
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    const cause = firstError ?? errorText(err);
    throw new RedisUnreachableError(redactRedisUrl(opts.url), cause);
  }
  return redis;
}

/** Close a connection politely, never throwing and never waiting long. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === "end") return;
  try {
    await Promise.race([redis.quit(), new Promise<void>((resolve) => setTimeout(resolve, 500).unref())]);
  } catch {
    // already gone
  }
  redis.disconnect();
}
