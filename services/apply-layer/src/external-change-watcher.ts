import {
  AUDIT_STREAM_MAXLEN,
  EXTERNAL_ACTOR,
  EXTERNAL_COMMAND,
  keys,
  keyspaceChannel,
  streams,
} from "@quantum/contracts";
import { keyspaceNotificationsEnabled } from "@quantum/permits";
import { type Logger, redisDb } from "@quantum/runtime";
import type { Redis } from "ioredis";

/** A control key whose changes are audited, with the keys that say who changed it and why. */
export interface WatchedControlKey {
  readonly key: string;
  readonly by: string;
  readonly at: string;
  readonly reason: string;
}

/** The kill switch and the trading state. */
export const WATCHED_CONTROL_KEYS: readonly WatchedControlKey[] = [
  {
    key: keys.killSwitch,
    by: keys.killSwitchBy,
    at: keys.killSwitchAt,
    reason: keys.killSwitchReason,
  },
  {
    key: keys.tradingState,
    by: keys.tradingStateBy,
    at: keys.tradingStateAt,
    reason: keys.tradingStateReason,
  },
];

/** Compare the live value with the last recorded one and record a difference as `external`; true if recorded. */
export async function recordExternalChange(
  redis: Redis,
  w: WatchedControlKey,
  nowMs = Date.now(),
): Promise<boolean> {
  const reply = await redis.quantumRecordExternalChange(
    w.key,
    keys.auditLastSeen,
    streams.audit,
    w.by,
    w.at,
    w.reason,
    w.key,
    (nowMs / 1000).toFixed(3),
    String(AUDIT_STREAM_MAXLEN),
    EXTERNAL_ACTOR,
    EXTERNAL_COMMAND,
    JSON.stringify([w.key]),
  );
  if (reply !== 0 && reply !== 1) {
    throw new Error(`recordExternalChange: unexpected reply ${JSON.stringify(reply)}`);
  }
  return reply === 1;
}

export interface ExternalChangeWatcherOptions {
  redis: Redis;
  log: Logger;
  /** Poll interval (the only trigger when keyspace notifications are off); default 1000 ms. */
  pollMs?: number;
}

/**
 * Records kill-switch and trading-state changes made outside quantumctl (a raw `redis-cli SET`) in the
 * audit stream as actor `external`. Checks on every keyspace notification of the two keys (when the server
 * publishes them) and on a short poll; the script makes each change recorded once across instances.
 */
export class ExternalChangeWatcher {
  private readonly pollMs: number;
  private timer: NodeJS.Timeout | null = null;
  private subscriber: Redis | null = null;
  private running: Promise<void> = Promise.resolve();
  private failing = false;

  constructor(private readonly o: ExternalChangeWatcherOptions) {
    this.pollMs = o.pollMs ?? 1000;
  }

  async start(): Promise<void> {
    this.timer = setInterval(() => this.check(), this.pollMs);
    this.timer.unref();
    await this.subscribe();
    this.check();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.subscriber?.disconnect();
    this.subscriber = null;
    await this.running;
  }

  /** Run one check of every watched key (serialised: a check never overlaps the previous one). */
  check(): Promise<void> {
    this.running = this.running.then(() => this.checkAll());
    return this.running;
  }

  private async checkAll(): Promise<void> {
    try {
      for (const w of WATCHED_CONTROL_KEYS) {
        if (await recordExternalChange(this.o.redis, w)) {
          this.o.log.warn({ key: w.key }, "control key changed outside quantumctl; recorded as external");
        }
      }
      if (this.failing) this.o.log.info({}, "external change check resumed");
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.o.log.warn({ err }, "external change check failed; retrying");
      this.failing = true;
    }
  }

  private async subscribe(): Promise<void> {
    let flags = "";
    try {
      const reply = await this.o.redis.config("GET", "notify-keyspace-events");
      flags = Array.isArray(reply) && typeof reply[1] === "string" ? reply[1] : "";
    } catch (err) {
      this.o.log.info({ err }, "config get refused; external changes are found by polling");
      return;
    }
    if (!keyspaceNotificationsEnabled(flags)) return;
    const db = redisDb(this.o.redis);
    const prefix = this.o.redis.options.keyPrefix ?? "";
    const sub = this.o.redis.duplicate();
    this.subscriber = sub;
    sub.on("error", (err: Error) => this.o.log.debug({ err }, "external change subscriber error"));
    sub.on("message", () => this.check());
    try {
      await sub.subscribe(...WATCHED_CONTROL_KEYS.map((w) => keyspaceChannel(db, `${prefix}${w.key}`)));
    } catch (err) {
      this.o.log.warn({ err }, "keyspace subscription failed; external changes are found by polling");
    }
  }
}
