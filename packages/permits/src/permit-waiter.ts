import { keys, keyspaceChannel } from "@quantum/contracts";
import { type Redis, ReplyError } from "ioredis";
import { InvalidPermitArgumentError } from "./invalid-permit-argument-error.js";
import { PlanPermitWait } from "./plan-permit-wait.js";
import type { PermitLogger, PermitWaitParams, PermitWaitResult } from "./wait-types.js";

export interface PermitWaiterOptions {
  logger?: PermitLogger;
  /** How long the first wait may wait for the subscriber connection before polling alone (default 2000). */
  subscriberConnectTimeoutMs?: number;
}

/**
 * True when `notify-keyspace-events` flags publish keyspace events of one class (`$` strings, `h` hashes, …):
 * `K` and (the class or `A`).
 */
export function keyspaceEventsEnabled(flags: string, eventClass: string): boolean {
  return flags.includes("K") && (flags.includes(eventClass) || flags.includes("A"));
}

/** True when `notify-keyspace-events` flags publish keyspace events for string commands (what permits are). */
export function keyspaceNotificationsEnabled(flags: string): boolean {
  return keyspaceEventsEnabled(flags, "$");
}

/** A watch of keyspace events on keys matching a pattern; see `PermitWaiter.watchKeys`. */
export interface KeyspaceWatch {
  /** A key matching the pattern had an event (`hset`, `del`, …); `key` is without the client's key prefix. */
  onEvent: (key: string, event: string) => void;
  /** The subscriber came back after a disconnect: events may have been missed meanwhile. */
  onReconnect?: () => void;
}

function validate(p: PermitWaitParams): void {
  if (p.planId === "") throw new InvalidPermitArgumentError("planId", "must not be empty");
  if (p.symbol === "") throw new InvalidPermitArgumentError("symbol", "must not be empty");
  if (!Number.isSafeInteger(p.execRecordTtlSec) || p.execRecordTtlSec < 1) {
    throw new InvalidPermitArgumentError(
      "execRecordTtlSec",
      `must be an integer >= 1, got ${p.execRecordTtlSec}`,
    );
  }
  if (!Number.isFinite(p.maxWaitMs) || p.maxWaitMs < 0) {
    throw new InvalidPermitArgumentError("maxWaitMs", `must be >= 0, got ${p.maxWaitMs}`);
  }
  if (!Number.isFinite(p.stepMs) || p.stepMs < 1) {
    throw new InvalidPermitArgumentError("stepMs", `must be >= 1, got ${p.stepMs}`);
  }
}

const sharedWaiters = new WeakMap<Redis, PermitWaiter>();

/**
 * Waits for permits of many plans at once (one per process). Owns ONE dedicated subscriber connection
 * (`redis.duplicate()`) when the server publishes keyspace notifications (checked once with CONFIG GET;
 * refused = off). Per wait it attempts once while it subscribes to the keyspace channels of both permits and
 * the governor block (permits already written are consumed without waiting for the subscription), attempts
 * again once they are live, re-attempts on every notification, and polls every `stepMs` as a fallback (the
 * only path when notifications are off or the subscriber is down). Consume attempts run on the shared client
 * as plain EVALSHA calls: nothing blocks, so any number of waits share one event loop. The same subscriber
 * connection serves other keyspace watches of the process (`watchKeys`), so a process holds one subscriber.
 */
export class PermitWaiter {
  readonly redis: Redis;
  private readonly log: PermitLogger | undefined;
  private readonly connectTimeoutMs: number;
  private readonly db: number;
  private readonly keyPrefix: string;
  private subscriber: Redis | null = null;
  private subscriberReady = false;
  private subscriberEverReady = false;
  private detection: Promise<boolean> | null = null;
  private flagsRead: Promise<string | null> | null = null;
  private opening: Promise<void> | null = null;
  private readonly patternWatches = new Map<string, KeyspaceWatch>();
  private readonly channelWaits = new Map<string, Set<PlanPermitWait>>();
  private readonly channelSubscribed = new Map<string, Promise<unknown>>();
  private readonly waits = new Set<PlanPermitWait>();
  private closedFlag = false;

  constructor(redis: Redis, opts: PermitWaiterOptions = {}) {
    this.redis = redis;
    this.log = opts.logger;
    this.connectTimeoutMs = opts.subscriberConnectTimeoutMs ?? 2000;
    this.db = redis.options.db ?? 0;
    this.keyPrefix = redis.options.keyPrefix ?? "";
  }

  /** The process-wide waiter of a client, created on first use and closed when the client ends. */
  static shared(redis: Redis): PermitWaiter {
    const existing = sharedWaiters.get(redis);
    if (existing !== undefined && !existing.closed) return existing;
    const waiter = new PermitWaiter(redis);
    sharedWaiters.set(redis, waiter);
    redis.once("end", () => {
      if (sharedWaiters.get(redis) === waiter) sharedWaiters.delete(redis);
      void waiter.close();
    });
    return waiter;
  }

  /** Whether keyspace notifications are used (detected once). */
  notificationsEnabled(): Promise<boolean> {
    return this.detect();
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Waits in progress. */
  get activeWaits(): number {
    return this.waits.size;
  }

  /** Keyspace channels currently subscribed for waits in progress. */
  get subscribedChannelCount(): number {
    return this.channelWaits.size;
  }

  /** True while the subscriber connection is up. */
  get subscriberConnected(): boolean {
    return this.subscriberReady;
  }

  /** Wait for both permits of a plan and consume them atomically; see `PermitWaitResult`. */
  async wait(params: PermitWaitParams): Promise<PermitWaitResult> {
    validate(params);
    const channels = [
      keys.governorPermit(params.planId),
      keys.p33Permit(params.planId),
      keys.governorBlock(params.planId),
    ].map((key) => keyspaceChannel(this.db, `${this.keyPrefix}${key}`));
    const w = new PlanPermitWait(this.redis, params, channels, (done) => this.release(done));
    this.waits.add(w);
    w.arm();
    if (!w.isSettled) {
      this.start(w, params.stepMs).catch((err: unknown) => {
        this.log?.warn({ err }, "permit wait subscription failed; polling covers");
      });
    }
    return w.promise;
  }

  /**
   * The first attempt runs alongside the subscription, and a consume it wins ends the wait without waiting for
   * the subscription (channels are registered synchronously before the wait can settle, so release() always
   * finds them); begin() attempts again once the channels are live and starts the fallback poll.
   */
  private async start(w: PlanPermitWait, stepMs: number): Promise<void> {
    const first = w.tryFirst();
    try {
      const notify = await this.detect();
      if (notify && !w.isSettled) await this.subscribe(w, stepMs);
    } finally {
      await first;
      w.begin();
    }
  }

  /**
   * Watch keyspace events on keys matching `keyPattern` (a glob such as `quantum:harvest:proposal:*`) over
   * the subscriber connection. Resolves true once the pattern is subscribed; false when the server does not
   * publish events of `eventClass` (`h` for hash commands), CONFIG GET is refused or the subscription failed:
   * the caller then relies on polling. Nothing here changes the server's configuration. One watch per
   * pattern: watching the same pattern again replaces the earlier watch.
   */
  async watchKeys(keyPattern: string, eventClass: string, watch: KeyspaceWatch): Promise<boolean> {
    const flags = await this.readFlags();
    if (flags === null || !keyspaceEventsEnabled(flags, eventClass)) return false;
    await this.ensureSubscriber();
    const sub = this.subscriber;
    if (sub === null) return false;
    const pattern = keyspaceChannel(this.db, `${this.keyPrefix}${keyPattern}`);
    this.patternWatches.set(pattern, watch);
    try {
      await sub.psubscribe(pattern);
      return true;
    } catch (err) {
      this.patternWatches.delete(pattern);
      this.log?.warn({ err, pattern }, "keyspace pattern subscribe failed");
      return false;
    }
  }

  /**
   * Close the subscriber connection. Waits in progress continue by polling; new waits poll only.
   * Cancel waits with their AbortSignal.
   */
  async close(): Promise<void> {
    this.closedFlag = true;
    const sub = this.subscriber;
    this.subscriber = null;
    this.subscriberReady = false;
    this.channelWaits.clear();
    this.channelSubscribed.clear();
    this.patternWatches.clear();
    if (sub !== null) sub.disconnect();
  }

  private detect(): Promise<boolean> {
    if (this.closedFlag) return Promise.resolve(false);
    this.detection ??= this.runDetection();
    return this.detection;
  }

  private async runDetection(): Promise<boolean> {
    const flags = await this.readFlags();
    if (flags === null) {
      if (this.flagsRead === null) this.detection = null; // connection problem: detect again on the next wait
      return false;
    }
    if (!keyspaceNotificationsEnabled(flags)) {
      this.log?.info({ flags }, "keyspace notifications off; permit wait polls only");
      return false;
    }
    await this.ensureSubscriber();
    return this.subscriber !== null;
  }

  /** The server's notify-keyspace-events flags, read once; null when CONFIG GET is refused or failed. */
  private readFlags(): Promise<string | null> {
    this.flagsRead ??= (async () => {
      try {
        const reply = await this.redis.config("GET", "notify-keyspace-events");
        return Array.isArray(reply) && typeof reply[1] === "string" ? reply[1] : "";
      } catch (err) {
        if (err instanceof ReplyError) {
          this.log?.warn({ err }, "config get refused; keyspace events unused, polling only");
          return null;
        }
        this.flagsRead = null; // connection problem: read again next time
        this.log?.warn({ err }, "keyspace notification check failed; polling for now");
        return null;
      }
    })();
    return this.flagsRead;
  }

  /** Open the one subscriber connection (once; concurrent callers share the attempt). */
  private ensureSubscriber(): Promise<void> {
    if (this.closedFlag || this.subscriber !== null) return this.opening ?? Promise.resolve();
    this.opening = this.openSubscriber();
    return this.opening;
  }

  private async openSubscriber(): Promise<void> {
    const sub = this.redis.duplicate();
    this.subscriber = sub;
    sub.on("message", (channel: string) => this.onMessage(channel));
    sub.on("pmessage", (pattern: string, channel: string, event: string) =>
      this.onPatternMessage(pattern, channel, event),
    );
    sub.on("ready", () => this.onSubscriberReady(sub));
    sub.on("close", () => {
      if (this.subscriber === sub) this.subscriberReady = false;
    });
    sub.on("error", (err: Error) => {
      this.log?.warn({ err }, "permit waiter subscriber error");
    });
    if (sub.status === "wait") sub.connect().catch(() => undefined);
    if (sub.status === "ready") {
      this.onSubscriberReady(sub);
      return;
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        sub.off("ready", done);
        sub.off("end", done);
        resolve();
      };
      const timer = setTimeout(done, this.connectTimeoutMs);
      timer.unref();
      sub.once("ready", done);
      sub.once("end", done);
    });
  }

  private onSubscriberReady(sub: Redis): void {
    if (this.subscriber !== sub) return;
    const reconnected = this.subscriberEverReady;
    this.subscriberReady = true;
    this.subscriberEverReady = true;
    if (!reconnected) return;
    // Back after a disconnect: make sure every channel of a wait in progress is subscribed again, then
    // attempt every wait once for whatever happened while the subscriber was down.
    this.log?.info({ waits: this.waits.size }, "permit waiter subscriber reconnected");
    const channels = [...this.channelWaits.keys()];
    if (channels.length > 0) {
      const p = sub.subscribe(...channels).catch(() => undefined);
      for (const ch of channels) this.channelSubscribed.set(ch, p);
    }
    for (const w of this.waits) w.kick();
    const patterns = [...this.patternWatches.keys()];
    if (patterns.length > 0) sub.psubscribe(...patterns).catch(() => undefined);
    for (const watch of this.patternWatches.values()) watch.onReconnect?.();
  }

  private onPatternMessage(pattern: string, channel: string, event: string): void {
    const watch = this.patternWatches.get(pattern);
    if (watch === undefined) return;
    const prefix = keyspaceChannel(this.db, this.keyPrefix);
    watch.onEvent(channel.slice(prefix.length), event);
  }

  private onMessage(channel: string): void {
    const waits = this.channelWaits.get(channel);
    if (waits === undefined) return;
    for (const w of waits) w.kick();
  }

  /** Register the wait's channels; SUBSCRIBE the new ones and wait (at most stepMs) until they are live. */
  private async subscribe(w: PlanPermitWait, stepMs: number): Promise<void> {
    const sub = this.subscriber;
    if (sub === null) return;
    const fresh: string[] = [];
    for (const ch of w.channels) {
      let set = this.channelWaits.get(ch);
      if (set === undefined) {
        set = new Set();
        this.channelWaits.set(ch, set);
        fresh.push(ch);
      }
      set.add(w);
    }
    if (fresh.length > 0) {
      const p = sub.subscribe(...fresh).catch((err: unknown) => {
        this.log?.warn({ err }, "keyspace subscribe failed; polling covers");
      });
      for (const ch of fresh) this.channelSubscribed.set(ch, p);
    }
    if (!this.subscriberReady) return; // down: do not delay the first attempt, polling covers
    const pending = w.channels.map((ch) => this.channelSubscribed.get(ch) ?? Promise.resolve());
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(pending),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, stepMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  private release(w: PlanPermitWait): void {
    this.waits.delete(w);
    const gone: string[] = [];
    for (const ch of w.channels) {
      const set = this.channelWaits.get(ch);
      if (set === undefined || !set.delete(w) || set.size > 0) continue;
      this.channelWaits.delete(ch);
      this.channelSubscribed.delete(ch);
      gone.push(ch);
    }
    const sub = this.subscriber;
    if (gone.length > 0 && sub !== null) sub.unsubscribe(...gone).catch(() => undefined);
  }
}

/**
 * Wait for both permits of a plan and consume them atomically. Uses `waiter` when given (it must
 * wrap the same client), else the process-wide `PermitWaiter.shared(redis)`.
 */
export function waitAndConsumePermits(
  opts: PermitWaitParams & { redis: Redis; waiter?: PermitWaiter },
): Promise<PermitWaitResult> {
  const { redis, waiter, ...params } = opts;
  if (waiter !== undefined && waiter.redis !== redis) {
    throw new InvalidPermitArgumentError("waiter", "must wrap the same redis client");
  }
  return (waiter ?? PermitWaiter.shared(redis)).wait(params);
}
