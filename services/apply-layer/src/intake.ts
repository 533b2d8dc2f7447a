import { createHash } from "node:crypto";
import {
  decodeHarvestProposal,
  groups,
  type HarvestProposal,
  keyPatterns,
  keys,
  streams,
  symbolFromKey,
} from "@quantum/contracts";
import { type ApplyMetrics, type StreamMetrics, setTradingState } from "@quantum/metrics";
import { type PermitWaiter, readKillSwitch, readTradingState } from "@quantum/permits";
import type { Logger, StreamSlots } from "@quantum/runtime";
import { deadLetter, StreamConsumer } from "@quantum/runtime";
import type { Redis } from "ioredis";
import { type ApplyConfig, SERVICE_NAME } from "./config.js";
import type { ProposalHandler } from "./proposal-handler.js";
import type { SymbolQueue } from "./symbol-queue.js";

export interface IntakeOptions {
  redis: Redis;
  /** Connection for the stream consumer's XREADGROUP BLOCK. */
  blocking: Redis;
  cfg: ApplyConfig;
  consumer: string;
  handler: ProposalHandler;
  metrics: ApplyMetrics;
  streamMetrics: StreamMetrics;
  log: Logger;
  /** The bounded plan queue: a proposal is taken only into a free slot. */
  queue: SymbolQueue;
  /** Owner of the process's keyspace subscriber (shared with the permit waits). */
  keyspace: PermitWaiter;
}

/** The fields of an HGETALL reply in a pipeline, or null when it failed or the hash is empty. */
function hashReply(reply: [Error | null, unknown] | undefined): Record<string, string> | null {
  const [err, fields] = reply ?? [null, null];
  if (err !== null || fields === null || typeof fields !== "object") return null;
  const map = fields as Record<string, string>;
  return Object.keys(map).length === 0 ? null : map;
}

function contentHash(fields: Record<string, string>): string {
  const sorted = Object.keys(fields)
    .sort()
    .map((k) => [k, fields[k]]);
  return createHash("sha256").update(JSON.stringify(sorted)).digest("hex");
}

/**
 * Proposal intake: the `harvest.proposal` stream read with group `apply`, and the hashes of SYMBOLS. A hash
 * is read when a keyspace notification says it was written (`hset`, when the server publishes hash events)
 * and on every poll (APPLY_POLL_SEC), the fallback that always runs.
 *
 * Backpressure: a proposal is taken only into a free slot of the bounded plan queue. While it is full the
 * stream is not read (entries wait in Redis) and woken or polled hashes are remembered by symbol and read as
 * soon as a slot frees; nothing is dropped and nothing grows beyond the bound and the symbol list.
 *
 * Malformed hashes are dead-lettered once per distinct content; malformed stream entries are dead-lettered
 * (and ACKed) by the StreamConsumer. Each poll also refreshes `apply_kill_switch_active` and
 * `position_mismatch_seconds`.
 */
export class Intake {
  private readonly consumer: StreamConsumer<HarvestProposal>;
  private readonly deadLettered = new Map<string, string>();
  private readonly polled: ReadonlySet<string>;
  /** Symbols whose hash is to be read as soon as a slot is free. */
  private readonly due = new Set<string>();
  /** Symbols whose hash is being read and handled. */
  private readonly busy = new Set<string>();
  private readonly reads = new Set<Promise<void>>();
  private running = false;
  private loop: Promise<void> | null = null;
  private drainer: Promise<void> | null = null;
  private lastPoll = 0;
  private wake: (() => void) | null = null;
  private kick: (() => void) | null = null;
  private watching = false;
  private watchAttempt: Promise<void> | null = null;
  private watchWarned = false;

  constructor(private readonly o: IntakeOptions) {
    this.polled = new Set(o.cfg.symbols);
    // A blocking read holds its slots until entries come (up to a second): the stream takes at most half of
    // the free slots so that written hashes still find one.
    const slots: StreamSlots = {
      reserve: (wanted) => this.reserve(Math.min(wanted, Math.ceil(o.queue.free / 2)), "stream"),
      release: (n) => o.queue.release(n),
      whenFree: () => o.queue.whenFree(),
    };
    this.consumer = new StreamConsumer<HarvestProposal>({
      redis: o.redis,
      blocking: o.blocking,
      stream: streams.harvestProposal,
      group: groups.apply,
      consumer: o.consumer,
      service: SERVICE_NAME,
      decode: (fields) => decodeHarvestProposal(fields),
      handleBatch: (items) => this.handleBatch(items),
      logger: o.log,
      metrics: o.streamMetrics,
      slots,
    });
  }

  start(): void {
    this.running = true;
    this.lastPoll = Date.now();
    this.loop = this.pollLoop();
    this.drainer = this.drainLoop();
    this.consumer.start();
    this.watch();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    this.kick?.();
    await Promise.all([this.loop, this.drainer, this.consumer.stop()]);
    await Promise.allSettled([...this.reads]);
  }

  /** Both loops made progress recently. */
  alive(): boolean {
    const maxStall = Math.max(15_000, 3 * this.o.cfg.pollMs);
    return this.running && Date.now() - this.lastPoll <= maxStall && this.consumer.alive(maxStall);
  }

  /** Whether written proposal hashes wake intake (keyspace notifications subscribed). */
  get notified(): boolean {
    return this.watching;
  }

  private reserve(wanted: number, source: "stream" | "hash"): number {
    const full = this.o.queue.free === 0;
    const granted = this.o.queue.reserve(wanted);
    if (full) this.o.metrics.planQueueFull.inc({ source });
    return granted;
  }

  /** Subscribe to hash writes under the proposal keys; retried on every poll until it works. */
  private watch(): void {
    if (this.watching || this.watchAttempt !== null || !this.running) return;
    this.watchAttempt = this.o.keyspace
      .watchKeys(keyPatterns.harvestProposal, "h", {
        onEvent: (key, event) => this.onKeyspaceEvent(key, event),
        onReconnect: () => this.markDue(this.o.cfg.symbols),
      })
      .then((ok) => {
        this.watching = ok;
        if (ok) this.o.log.info({}, "proposal hashes wake intake through keyspace notifications");
        else if (!this.watchWarned) {
          this.watchWarned = true;
          this.o.log.warn(
            { pollSec: this.o.cfg.pollMs / 1000 },
            "keyspace notifications for hashes unavailable (notify-keyspace-events needs K with h or A); proposal hashes are polled only",
          );
        }
      })
      .catch((err: unknown) => this.o.log.warn({ err }, "keyspace watch failed; polling"))
      .finally(() => {
        this.watchAttempt = null;
      });
  }

  private onKeyspaceEvent(key: string, event: string): void {
    if (event !== "hset") return;
    const symbol = symbolFromKey(key, keyPatterns.harvestProposal);
    if (symbol !== null && this.polled.has(symbol)) this.markDue([symbol]);
  }

  private markDue(symbols: Iterable<string>): void {
    for (const s of symbols) this.due.add(s);
    this.kick?.();
  }

  /** Reads due hashes into free slots; waits for a wake-up or a slot when there is nothing it can do. */
  private async drainLoop(): Promise<void> {
    while (this.running) {
      const ready = [...this.due].filter((s) => !this.busy.has(s));
      const granted = ready.length > 0 ? this.reserve(ready.length, "hash") : 0;
      if (granted === 0) {
        const kicked = new Promise<void>((resolve) => {
          this.kick = resolve;
        });
        await Promise.race(ready.length > 0 ? [kicked, this.o.queue.whenFree()] : [kicked]);
        this.kick = null;
        continue;
      }
      const take = ready.slice(0, granted);
      for (const s of take) {
        this.due.delete(s);
        this.busy.add(s);
      }
      this.track(this.readSymbols(take), take, granted);
    }
  }

  /** Run a read of `symbols` holding `slots` queue slots; both are given back when it ends. */
  private track(read: Promise<void>, symbols: string[], slots: number): void {
    const p: Promise<void> = read
      .catch((err: unknown) => this.o.log.warn({ err, symbols }, "proposal read failed, polled again"))
      .finally(() => {
        for (const s of symbols) this.busy.delete(s);
        this.o.queue.release(slots);
        this.reads.delete(p);
        this.kick?.();
      });
    this.reads.add(p);
  }

  private async readSymbols(symbols: string[]): Promise<void> {
    const pipe = this.o.redis.pipeline();
    for (const s of symbols) pipe.hgetall(keys.harvestProposal(s));
    const replies = (await pipe.exec()) ?? [];
    await Promise.all(
      symbols.map((symbol, i) => {
        const map = hashReply(replies[i]);
        return map === null ? Promise.resolve() : this.pollSymbol(symbol, map);
      }),
    );
  }

  private async handleBatch(items: { id: string; value: HarvestProposal }[]): Promise<string[]> {
    const done: string[] = [];
    await Promise.all(
      items.map(async (item) => {
        try {
          await this.o.handler.handle(item.value);
          done.push(item.id);
        } catch (err) {
          this.o.log.warn({ err, id: item.id }, "proposal entry not handled, stays pending");
        }
      }),
    );
    return done;
  }

  private async pollLoop(): Promise<void> {
    while (this.running) {
      const t0 = Date.now();
      try {
        await this.pollOnce();
      } catch (err) {
        this.o.log.warn({ err }, "proposal poll failed");
      }
      this.lastPoll = Date.now();
      this.watch();
      const wait = Math.max(0, this.o.cfg.pollMs - (Date.now() - t0));
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.wake = null;
          resolve();
        }, wait);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /**
   * One poll of every SYMBOLS hash plus the gauges. A hash is handled in a free queue slot; without one (or
   * while it is being read already) the symbol is left due and read as soon as a slot frees.
   */
  async pollOnce(): Promise<void> {
    const { redis, cfg } = this.o;
    const pipe = redis.pipeline();
    for (const s of cfg.symbols) pipe.hgetall(keys.harvestProposal(s));
    for (const s of cfg.symbols) pipe.hget(keys.positionView(s), "mismatch_since");
    const replies = (await pipe.exec()) ?? [];
    const n = cfg.symbols.length;
    const work: Promise<void>[] = [];
    const deferred: string[] = [];
    cfg.symbols.forEach((symbol, i) => {
      const map = hashReply(replies[i]);
      if (map === null) return;
      if (this.busy.has(symbol) || this.reserve(1, "hash") === 0) {
        deferred.push(symbol);
        return;
      }
      this.busy.add(symbol);
      const read = this.pollSymbol(symbol, map);
      this.track(read, [symbol], 1);
      work.push(read.catch(() => undefined));
    });
    if (deferred.length > 0) this.markDue(deferred);
    this.updateMismatch(
      replies.slice(n).map((r) => (r[0] === null && typeof r[1] === "string" ? r[1] : null)),
    );
    await Promise.all([...work, this.updateKillSwitchGauge()]);
  }

  private async pollSymbol(symbol: string, fields: Record<string, string>): Promise<void> {
    const decoded = decodeHarvestProposal(fields, symbol);
    if (decoded.ok) {
      this.deadLettered.delete(symbol);
      try {
        await this.o.handler.handle(decoded.value);
      } catch (err) {
        this.o.log.warn({ err, symbol }, "proposal not handled, retried next poll");
      }
      return;
    }
    const hash = contentHash(fields);
    if (this.deadLettered.get(symbol) === hash) return;
    const key = keys.harvestProposal(symbol);
    await deadLetter(this.o.redis, {
      stream: key,
      id: `hash:${hash.slice(0, 16)}`,
      service: SERVICE_NAME,
      error: decoded.error.message,
      fields,
    });
    this.deadLettered.set(symbol, hash);
    this.o.streamMetrics.deadLetter(keyPatterns.harvestProposal);
    this.o.log.warn({ symbol, error: decoded.error.message }, "malformed proposal hash dead-lettered");
  }

  private updateMismatch(since: (string | null)[]): void {
    const now = Date.now() / 1000;
    let worst = 0;
    for (const s of since) {
      const t = s === null || s === "" ? Number.NaN : Number(s);
      if (Number.isFinite(t) && t > 0) worst = Math.max(worst, now - t);
    }
    this.o.metrics.positionMismatchSeconds.set(worst);
  }

  private async updateKillSwitchGauge(): Promise<void> {
    const [ks, ts] = await Promise.all([
      readKillSwitch(this.o.redis, this.o.cfg.mode),
      readTradingState(this.o.redis),
    ]);
    this.o.metrics.killSwitchActive.set(ks.halted || ts.halted || this.o.cfg.envKillSwitch ? 1 : 0);
    setTradingState(this.o.metrics.tradingState, ts.state);
  }
}
