import { createHash } from "node:crypto";
import {
  decodeHarvestProposal,
  groups,
  type HarvestProposal,
  keyPatterns,
  keys,
  streams,
} from "@quantum/contracts";
import { type ApplyMetrics, type StreamMetrics, setTradingState } from "@quantum/metrics";
import { readKillSwitch, readTradingState } from "@quantum/permits";
import type { Logger } from "@quantum/runtime";
import { deadLetter, StreamConsumer } from "@quantum/runtime";
import type { Redis } from "ioredis";
import type { ApplyConfig } from "./config.js";
import type { ProposalHandler } from "./proposals.js";

export const SERVICE = "apply-layer";

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
}

function contentHash(fields: Record<string, string>): string {
  const sorted = Object.keys(fields)
    .sort()
    .map((k) => [k, fields[k]]);
  return createHash("sha256").update(JSON.stringify(sorted)).digest("hex");
}

/**
 * Proposal intake (SPEC §2.2): the hashes of SYMBOLS polled every APPLY_POLL_SEC and the
 * `harvest.proposal` stream read with group `apply`. Malformed hashes are dead-lettered once per distinct
 * content; malformed stream entries are dead-lettered (and ACKed) by the StreamConsumer. Each poll also
 * refreshes `apply_kill_switch_active` and `position_mismatch_seconds`.
 */
export class Intake {
  private readonly consumer: StreamConsumer<HarvestProposal>;
  private readonly deadLettered = new Map<string, string>();
  private running = false;
  private loop: Promise<void> | null = null;
  private lastPoll = 0;
  private wake: (() => void) | null = null;

  constructor(private readonly o: IntakeOptions) {
    this.consumer = new StreamConsumer<HarvestProposal>({
      redis: o.redis,
      blocking: o.blocking,
      stream: streams.harvestProposal,
      group: groups.apply,
      consumer: o.consumer,
      service: SERVICE,
      decode: (fields) => decodeHarvestProposal(fields),
      handleBatch: (items) => this.handleBatch(items),
      logger: o.log,
      metrics: o.streamMetrics,
    });
  }

  start(): void {
    this.running = true;
    this.lastPoll = Date.now();
    this.loop = this.pollLoop();
    this.consumer.start();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await Promise.all([this.loop, this.consumer.stop()]);
  }

  /** Both loops made progress recently. */
  alive(): boolean {
    const maxStall = Math.max(15_000, 3 * this.o.cfg.pollMs);
    return this.running && Date.now() - this.lastPoll <= maxStall && this.consumer.alive(maxStall);
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

  /** One poll of every SYMBOLS hash plus the gauges. */
  async pollOnce(): Promise<void> {
    const { redis, cfg } = this.o;
    const pipe = redis.pipeline();
    for (const s of cfg.symbols) pipe.hgetall(keys.harvestProposal(s));
    for (const s of cfg.symbols) pipe.hget(keys.positionView(s), "mismatch_since");
    const replies = (await pipe.exec()) ?? [];
    const n = cfg.symbols.length;
    const work: Promise<void>[] = [];
    cfg.symbols.forEach((symbol, i) => {
      const [err, fields] = replies[i] ?? [null, null];
      if (err !== null || fields === null || typeof fields !== "object") return;
      const map = fields as Record<string, string>;
      if (Object.keys(map).length === 0) return;
      work.push(this.pollSymbol(symbol, map));
    });
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
      service: SERVICE,
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
