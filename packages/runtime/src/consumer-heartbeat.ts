import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { keys } from "@quantum/contracts";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { ConsumerNameInUseError } from "./consumer-name-in-use-error.js";
import { scriptsLoaded } from "./lua-scripts.js";
import { compareAndDelete, RUNTIME_SCRIPTS } from "./runtime-scripts.js";

/** Default heartbeat TTL: a crashed instance's name is free again at most this long after its last renewal. */
export const CONSUMER_HEARTBEAT_TTL_MS = 5000;
/**
 * A live holder's renewal moves the heartbeat's expiry (now + PTTL) later by about one renewal interval;
 * smaller moves are round-trip noise. A dead holder's expiry stays where it is.
 */
const RENEWAL_SLACK_MS = 100;
/** How long to wait between looks at a held heartbeat. */
const WATCH_INTERVAL_MS = 200;

export interface ConsumerHeartbeatOptions {
  service: string;
  consumer: string;
  logger: Logger;
  /** Heartbeat TTL, 1000–10000 ms; default CONSUMER_HEARTBEAT_TTL_MS. Renewed every ttlMs / 4. */
  ttlMs?: number;
  /** Called when a renewal finds the name held by another instance (this one lost it). */
  onLost?: (holder: string) => void;
  /** Ends the claim's waiting (Redis down, a held name watched) with an AbortError. */
  signal?: AbortSignal;
}

export interface ConsumerHeartbeat {
  /** Unique per process: `<hostname>:<pid>:<random>`. */
  readonly instanceId: string;
  /** Stop renewing and delete the heartbeat if it is still ours. */
  stop(): Promise<void>;
}

type ClaimReply = { held: false } | { held: true; holder: string; pttlMs: number };

async function claimOnce(redis: Redis, key: string, id: string, ttlMs: number): Promise<ClaimReply> {
  const reply = await redis.quantumClaimHeartbeat(key, id, String(ttlMs));
  if (Array.isArray(reply) && reply[0] === "ok") return { held: false };
  if (Array.isArray(reply) && reply[0] === "held" && typeof reply[2] === "number") {
    return { held: true, holder: String(reply[1]), pttlMs: reply[2] };
  }
  throw new Error(`claimHeartbeat-1.lua: unexpected reply ${JSON.stringify(reply)}`);
}

/**
 * Make sure no other live instance runs under this consumer name, then keep a heartbeat for it
 * (`quantum:service:<service>:consumer:<name>` = this process's instance id, TTL ≤ 10 s, renewed every
 * TTL / 4). A heartbeat held by another instance is watched: when its TTL is renewed (or it changes
 * hands) that instance is alive and this one refuses with ConsumerNameInUseError; when it only runs down
 * (a crashed instance) it is taken over as soon as it expires, so a crash followed by an immediate
 * restart comes back on its own within one TTL. Redis errors while claiming are retried.
 */
export async function claimConsumerName(
  redis: Redis,
  o: ConsumerHeartbeatOptions,
): Promise<ConsumerHeartbeat> {
  const ttlMs = o.ttlMs ?? CONSUMER_HEARTBEAT_TTL_MS;
  if (!Number.isInteger(ttlMs) || ttlMs < 1000 || ttlMs > 10_000) {
    throw new RangeError(`consumer heartbeat ttlMs must be an integer in 1000..10000, got ${ttlMs}`);
  }
  // Checked here: the claim loop below retries every error, so a missing command would spin, not fail.
  if (!scriptsLoaded(redis, RUNTIME_SCRIPTS)) {
    throw new Error("claimConsumerName: the runtime Lua scripts are not loaded on this client (loadScripts)");
  }
  const renewMs = Math.floor(ttlMs / 4);
  const key = keys.consumerHeartbeat(o.service, o.consumer);
  const instanceId = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const log = o.logger.child({ component: "consumer-heartbeat", consumer: o.consumer });

  /** The heartbeat of another instance being watched: its holder, last PTTL and when watching began. */
  let watchedHolder: string | null = null;
  let watchedExpiryMs = 0;
  let watchStartMs = 0;
  let redisFailing = false;
  for (;;) {
    o.signal?.throwIfAborted();
    let reply: ClaimReply;
    try {
      reply = await claimOnce(redis, key, instanceId, ttlMs);
      redisFailing = false;
    } catch (err) {
      if (!redisFailing) log.warn({ err }, "cannot claim the consumer name yet, retrying");
      redisFailing = true;
      await sleep(500, undefined, { signal: o.signal });
      continue;
    }
    if (!reply.held) break;
    const now = Date.now();
    if (watchedHolder !== null && reply.holder !== watchedHolder) {
      throw new ConsumerNameInUseError(o.service, o.consumer, reply.holder, "the heartbeat changed hands");
    }
    const expiryMs = performance.now() + reply.pttlMs;
    if (watchedHolder !== null && expiryMs > watchedExpiryMs + RENEWAL_SLACK_MS) {
      throw new ConsumerNameInUseError(o.service, o.consumer, reply.holder, "its heartbeat is being renewed");
    }
    if (reply.pttlMs < 0 || reply.pttlMs > ttlMs + renewMs) {
      throw new ConsumerNameInUseError(o.service, o.consumer, reply.holder, "its heartbeat does not expire");
    }
    if (watchedHolder === null) {
      watchStartMs = now;
      log.warn(
        { holder: reply.holder, expiresInMs: reply.pttlMs },
        "consumer name held by an earlier instance; waiting to see whether it is alive",
      );
    }
    watchedHolder = reply.holder;
    watchedExpiryMs = expiryMs;
    await sleep(Math.max(10, Math.min(WATCH_INTERVAL_MS, reply.pttlMs + 5)), undefined, { signal: o.signal });
  }
  if (watchedHolder !== null) {
    log.info({ previous: watchedHolder, waitedMs: Date.now() - watchStartMs }, "consumer name taken over");
  }

  let stopped = false;
  let lost = false;
  let current: Promise<void> = Promise.resolve();
  const renew = async (): Promise<void> => {
    try {
      const reply = await claimOnce(redis, key, instanceId, ttlMs);
      if (reply.held && !lost) {
        lost = true;
        log.error({ holder: reply.holder }, "consumer name taken by another instance");
        o.onLost?.(reply.holder);
      } else if (!reply.held) lost = false;
      redisFailing = false;
    } catch (err) {
      if (!redisFailing) log.warn({ err }, "consumer heartbeat renewal failed");
      redisFailing = true;
    }
  };
  const timer = setInterval(() => {
    if (!stopped) current = current.then(renew);
  }, renewMs);
  timer.unref();

  return {
    instanceId,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current;
      try {
        await compareAndDelete(redis, key, instanceId);
      } catch (err) {
        log.warn({ err }, "consumer heartbeat not released (it expires on its own)");
      }
    },
  };
}
