import { errorText } from "@quantum/contracts";
import type { StreamMetrics } from "@quantum/metrics";
import type { Logger } from "pino";
import { deadLetterEntries, decodeEntries } from "./stream-batch.js";
import type { StreamConsumerOptions, StreamSlots } from "./stream-consumer-options.js";
import {
  type GroupInfo,
  parseXautoclaim,
  parseXinfoGroups,
  parseXreadgroup,
  type RawEntry,
} from "./stream-replies.js";
import { ensureGroup } from "./streams.js";

type State = "idle" | "running" | "stopping" | "stopped";

/**
 * A consumer-group reader: own pending entries first (ID 0), then new ones (>);
 * XAUTOCLAIM janitor for entries of dead consumers; malformed entries dead-lettered and ACKed; ACK only what
 * the handler confirmed, one XACK per batch (none for the handler's ids when it acknowledges them itself,
 * `handlerAcks`); retries with backoff; survives Redis outages; graceful stop().
 */
export class StreamConsumer<T> {
  private readonly o: Required<Omit<StreamConsumerOptions<T>, "metrics" | "slots">> & {
    metrics?: StreamMetrics;
  };
  private readonly slots: StreamSlots | undefined;
  private readonly log: Logger;
  private state: State = "idle";
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private groupReady = false;
  private readPending = true;
  private pendingCursor = "0";
  private retryAt: number | null = null;
  private retryFailures = 0;
  private loopErrors = 0;
  private outage = false;
  private nextJanitorAt = 0;
  private inFlight = 0;
  private readonly inFlightIds = new Set<string>();
  private readonly batches = new Set<Promise<void>>();
  private lastLoop = 0;

  constructor(opts: StreamConsumerOptions<T>) {
    const batchSize = Math.max(1, opts.batchSize ?? 100);
    this.o = {
      startId: "$",
      claimIdleMs: 60_000,
      janitorIntervalMs: 30_000,
      retryMinMs: 100,
      retryMaxMs: 2000,
      handlerAcks: false,
      ...opts,
      batchSize,
      blockMs: Math.min(1000, Math.max(1, opts.blockMs ?? 1000)),
      maxInFlight: Math.max(1, opts.maxInFlight ?? batchSize),
    };
    this.slots = opts.slots;
    this.log = opts.logger.child({ component: "stream-consumer", stream: opts.stream, group: opts.group });
  }

  /** Epoch ms of the last loop iteration or finished batch (liveness for /health). */
  get lastLoopAt(): number {
    return this.lastLoop;
  }

  /** Whether the loop made progress within `maxStallMs` (default 10 s). */
  alive(maxStallMs = 10_000): boolean {
    return this.state === "running" && Date.now() - this.lastLoop <= maxStallMs;
  }

  /** Whether the consumer group has been ensured (start() done its first step). */
  get ready(): boolean {
    return this.groupReady;
  }

  /** Start the loop (returns at once; the group is created on the first iteration, retried while Redis is down). */
  start(): void {
    if (this.state !== "idle") throw new Error("StreamConsumer can only be started once");
    this.state = "running";
    this.lastLoop = Date.now();
    this.o.metrics?.registerStream(this.o.stream);
    this.loop = this.run();
  }

  /** Stop reading, let in-flight batches (and what a waiting read returns) finish and ACK, then resolve. */
  async stop(): Promise<void> {
    if (this.state === "idle") this.state = "stopped";
    if (this.state === "running") this.state = "stopping";
    this.wake?.();
    await this.loop;
    this.state = "stopped";
  }

  /** Entries delivered to the group and not yet acknowledged (XPENDING count). */
  async pending(): Promise<number> {
    return (await this.groupInfo()).pending;
  }

  /** Entries not yet delivered to the group (XINFO GROUPS lag; null when Redis cannot tell). */
  async lag(): Promise<number | null> {
    return (await this.groupInfo()).lag;
  }

  async groupInfo(): Promise<GroupInfo> {
    const groups = parseXinfoGroups(await this.o.redis.call("XINFO", "GROUPS", this.o.stream));
    const g = groups.find((x) => x.name === this.o.group);
    if (g === undefined) throw new Error(`consumer group ${this.o.group} does not exist on ${this.o.stream}`);
    return g;
  }

  private get concurrent(): boolean {
    return this.o.maxInFlight > this.o.batchSize;
  }

  private room(): number {
    if (this.inFlight > 0 && !this.concurrent) return 0;
    return Math.min(this.o.batchSize, this.o.maxInFlight - this.inFlight);
  }

  private backoff(attempt: number): number {
    return Math.min(this.o.retryMinMs * 2 ** Math.max(0, attempt - 1), this.o.retryMaxMs);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    while (this.state === "running") {
      this.lastLoop = Date.now();
      try {
        if (!this.groupReady) {
          await ensureGroup(this.o.redis, this.o.stream, this.o.group, this.o.startId);
          this.groupReady = true;
        }
        await this.janitor();
        if (this.state !== "running") break;
        if (this.room() <= 0) {
          await Promise.race(this.batches);
          continue;
        }
        const granted = this.takeSlots(this.room());
        if (granted === 0) {
          await this.waitForSlots();
          continue;
        }
        const entries = await this.holding(granted, () => this.read(granted));
        this.recovered();
        // Entries a read returns are delivered to this consumer: they are handled even when stop() began
        // while the read waited, rather than left pending for a restart or another consumer's claim.
        if (entries.length > 0) {
          const batch = this.dispatch(entries);
          if (!this.concurrent) await batch;
        }
      } catch (err) {
        this.loopFailed(err);
        await this.sleep(this.backoff(++this.loopErrors));
      }
    }
    await Promise.allSettled([...this.batches]);
  }

  private recovered(): void {
    this.loopErrors = 0;
    this.o.metrics?.redisUp(true);
    if (this.outage) {
      this.outage = false;
      this.log.info({}, "stream reads resumed");
    }
  }

  private loopFailed(err: unknown): void {
    const text = errorText(err);
    if (text.includes("NOGROUP")) this.groupReady = false;
    this.readPending = true;
    this.pendingCursor = "0";
    if (this.o.redis.status !== "ready" || this.o.blocking.status !== "ready") this.o.metrics?.redisUp(false);
    if (!this.outage) {
      this.outage = true;
      this.log.warn({ err: { message: text } }, "stream read failed, retrying");
    }
  }

  private scheduleRetry(): void {
    this.retryFailures++;
    const at = Date.now() + this.backoff(this.retryFailures);
    this.retryAt = this.retryAt === null ? at : Math.min(this.retryAt, at);
  }

  private takeSlots(wanted: number): number {
    return this.slots === undefined ? wanted : this.slots.reserve(wanted);
  }

  private releaseSlots(n: number): void {
    if (n > 0) this.slots?.release(n);
  }

  /** Run a read or claim holding `granted` slots; the slots of entries it did not return are given back. */
  private async holding(granted: number, fetch: () => Promise<RawEntry[]>): Promise<RawEntry[]> {
    let entries: RawEntry[] = [];
    try {
      entries = await fetch();
      return entries;
    } finally {
      this.releaseSlots(granted - entries.length);
    }
  }

  /** No slot free: wait until one may be (or blockMs, or stop()). */
  private async waitForSlots(): Promise<void> {
    const freed = this.slots?.whenFree() ?? Promise.resolve();
    await Promise.race([freed, this.sleep(this.o.blockMs)]);
    this.wake?.();
  }

  /** Own pending entries from `pendingCursor` while in a pending pass, else new ones (BLOCK). */
  private async read(room: number): Promise<RawEntry[]> {
    const { blocking, group, consumer, stream } = this.o;
    const count = String(room);
    if (!this.readPending && this.retryAt !== null && Date.now() >= this.retryAt) {
      this.retryAt = null;
      this.readPending = true;
      this.pendingCursor = "0";
    }
    if (this.readPending) {
      const args = ["GROUP", group, consumer, "COUNT", count, "STREAMS", stream, this.pendingCursor];
      const entries = parseXreadgroup(await blocking.call("XREADGROUP", ...args));
      const last = entries.at(-1);
      if (last === undefined) {
        this.readPending = false;
        return [];
      }
      this.pendingCursor = last.id;
      return entries.filter((e) => !this.inFlightIds.has(e.id));
    }
    const untilRetry = this.retryAt === null ? this.o.blockMs : this.retryAt - Date.now();
    const block = String(Math.max(1, Math.min(this.o.blockMs, untilRetry)));
    const args = ["GROUP", group, consumer, "COUNT", count, "BLOCK", block, "STREAMS", stream, ">"];
    return parseXreadgroup(await blocking.call("XREADGROUP", ...args));
  }

  /** XAUTOCLAIM entries idle > claimIdleMs into this consumer and process them like any other. */
  private async janitor(): Promise<void> {
    const now = Date.now();
    if (now < this.nextJanitorAt) return;
    this.nextJanitorAt = now + this.o.janitorIntervalMs;
    const { redis, stream, group, consumer, claimIdleMs } = this.o;
    let cursor = "0-0";
    for (let round = 0; round < 10 && this.state === "running"; round++) {
      const count = this.takeSlots(this.room());
      if (count <= 0) break;
      let next = "0-0";
      const fresh = await this.holding(count, async () => {
        const reply = await redis.call(
          "XAUTOCLAIM",
          stream,
          group,
          consumer,
          String(claimIdleMs),
          cursor,
          "COUNT",
          String(count),
        );
        const claimed = parseXautoclaim(reply);
        next = claimed.next;
        if (claimed.deleted.length > 0)
          this.log.warn({ ids: claimed.deleted }, "pending entries no longer in the stream were dropped");
        return claimed.entries.filter((e) => !this.inFlightIds.has(e.id));
      });
      if (fresh.length > 0) {
        this.o.metrics?.message(stream, "reclaimed", fresh.length);
        this.log.info({ count: fresh.length, firstId: fresh[0]?.id }, "reclaimed idle pending entries");
        const batch = this.dispatch(fresh);
        if (!this.concurrent) await batch;
      }
      cursor = next;
      if (cursor === "0-0") break;
    }
    const pending = await this.pendingCount();
    this.o.metrics?.pending(stream, pending);
  }

  private async pendingCount(): Promise<number> {
    const reply = await this.o.redis.call("XPENDING", this.o.stream, this.o.group);
    return Array.isArray(reply) ? Number(reply[0] ?? 0) : 0;
  }

  private dispatch(entries: RawEntry[]): Promise<void> {
    for (const e of entries) this.inFlightIds.add(e.id);
    this.inFlight += entries.length;
    const batch: Promise<void> = this.process(entries)
      .catch((err: unknown) => {
        this.scheduleRetry();
        this.log.error({ err }, "batch processing failed, entries stay pending");
      })
      .finally(() => {
        for (const e of entries) this.inFlightIds.delete(e.id);
        this.inFlight -= entries.length;
        this.releaseSlots(entries.length);
        this.batches.delete(batch);
        this.lastLoop = Date.now();
      });
    this.batches.add(batch);
    return batch;
  }

  private async process(entries: RawEntry[]): Promise<void> {
    const { redis, stream, group, service, metrics } = this.o;
    const { items, bad, gone } = decodeEntries(entries, this.o.decode);
    const ack: string[] = [...gone];
    let clean = true;
    if (bad.length > 0) {
      const written = await deadLetterEntries(redis, { stream, service }, bad);
      for (const b of written) this.log.warn({ id: b.id, error: b.error }, "malformed entry dead-lettered");
      metrics?.deadLetter(stream, written.length);
      metrics?.message(stream, "deadletter", written.length);
      ack.push(...written.map((b) => b.id));
      if (written.length < bad.length) {
        clean = false;
        this.log.warn({ count: bad.length - written.length }, "dead-letter write failed, will retry");
      }
    }
    let handled: string[] = [];
    if (items.length > 0) {
      try {
        const wanted = new Set(items.map((i) => i.id));
        handled = [...new Set(await this.o.handleBatch(items))].filter((id) => wanted.has(id));
        if (handled.length < items.length) clean = false;
      } catch (err) {
        clean = false;
        this.log.error(
          { err, count: items.length, firstId: items[0]?.id },
          "batch handler failed, entries stay pending",
        );
      }
    }
    if (!this.o.handlerAcks) ack.push(...handled);
    if (ack.length > 0) {
      try {
        await redis.xack(stream, group, ...ack);
      } catch (err) {
        clean = false;
        if (!this.o.handlerAcks) handled = [];
        this.log.warn(
          { err: { message: errorText(err) }, count: ack.length },
          "xack failed, entries stay pending",
        );
      }
    }
    metrics?.message(stream, "processed", handled.length);
    metrics?.message(stream, "failed", items.length - handled.length);
    if (clean) {
      if (this.retryAt === null) this.retryFailures = 0;
    } else {
      this.scheduleRetry();
    }
  }
}
