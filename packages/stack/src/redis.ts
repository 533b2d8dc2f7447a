import { errorText } from "@quantum/contracts";
import { Redis } from "ioredis";

/** Keyspace notifications the services use (event-driven permit waits): all classes, both channels. */
export const STACK_NOTIFY_EVENTS = "KEA";

/** Arguments of a throwaway redis-server: loopback only, no persistence, notifications on. */
export function redisServerArgs(port: number, dir: string, host = "127.0.0.1"): string[] {
  return [
    "--port",
    String(port),
    "--bind",
    host,
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    "no",
    "--notify-keyspace-events",
    STACK_NOTIFY_EVENTS,
    "--protected-mode",
    "no",
    "--daemonize",
    "no",
    "--logfile",
    "",
    "--loglevel",
    "warning",
  ];
}

/** A short-lived client of the supervisor (fail fast, no offline queue). */
export function supervisorClient(url: string): Redis {
  const r = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    commandTimeout: 5000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  r.on("error", () => undefined);
  return r;
}

export async function closeClient(r: Redis): Promise<void> {
  if (r.status === "end") return;
  try {
    await Promise.race([r.quit(), new Promise<void>((resolve) => setTimeout(resolve, 500).unref())]);
  } catch {
    // already gone
  }
  r.disconnect();
}

/** Connect, retrying until `timeoutMs` passed (a redis-server that is still starting). */
export async function connectWithRetry(url: string, timeoutMs: number): Promise<Redis> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const r = supervisorClient(url);
    let first: string | null = null;
    r.on("error", (err: Error) => {
      first ??= err.message;
    });
    try {
      await r.connect();
      await r.ping();
      return r;
    } catch (err) {
      last = first ?? errorText(err);
      r.disconnect();
    }
    if (Date.now() >= deadline) throw new Error(`redis at ${url} not reachable: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, 50).unref());
  }
}

export interface NotificationsReport {
  /** The value before; null when CONFIG GET is not allowed. */
  readonly before: string | null;
  readonly after: string | null;
  readonly changed: boolean;
  /** Why it could not be read or set (managed Redis with CONFIG disabled, ACLs). */
  readonly error: string | null;
}

/**
 * Whether a notify-keyspace-events value publishes keyspace events for strings, hashes (proposal writes),
 * streams, DEL and expiry.
 */
export function notificationsSufficient(value: string): boolean {
  const events = value.includes("A") || ["g", "$", "h", "t", "x"].every((c) => value.includes(c));
  return value.includes("K") && events;
}

/**
 * On an existing Redis: switch keyspace notifications on (merging with the flags already set) when CONFIG
 * is allowed. Without them the Apply Layer still works, by polling every APPLY_PERMIT_STEP_MS.
 */
export async function ensureNotifications(r: Redis): Promise<NotificationsReport> {
  let before: string | null = null;
  try {
    const reply = (await r.config("GET", "notify-keyspace-events")) as string[];
    before = reply[1] ?? "";
  } catch (err) {
    return { before: null, after: null, changed: false, error: String(err) };
  }
  if (notificationsSufficient(before)) return { before, after: before, changed: false, error: null };
  const merged = [...new Set(`${before}${STACK_NOTIFY_EVENTS}`.split(""))].join("");
  try {
    await r.config("SET", "notify-keyspace-events", merged);
    const after = ((await r.config("GET", "notify-keyspace-events")) as string[])[1] ?? null;
    return { before, after, changed: true, error: null };
  } catch (err) {
    return { before, after: before, changed: false, error: String(err) };
  }
}
