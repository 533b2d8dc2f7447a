import { type ApplyPlan, decodeApplyPlan, keyPatterns, keys, symbolFromKey } from "@quantum/contracts";
import type { Logger } from "@quantum/runtime";
import type { Redis } from "ioredis";
import type { ApplyConfig } from "./config.js";
import type { Executor } from "./executor.js";
import type { SymbolLocks } from "./locks.js";
import { type OrderSender, RECOVERY_RESOLVE_DELAYS_MS } from "./orders.js";
import { FINAL_STATES, type Finisher, RECORD_EXTRA, readRecord, resultFromRecord } from "./outcomes.js";
import type { OpenPlanEntry } from "./proposals.js";
import type { ResultPublisher } from "./results.js";
import type { SymbolQueue } from "./symbol-queue.js";

export interface RecoveryOptions {
  redis: Redis;
  cfg: ApplyConfig;
  /** null in dry_run: SUBMITTING/UNKNOWN records cannot be looked up and are left alone. */
  sender: OrderSender | null;
  finisher: Finisher;
  results: ResultPublisher;
  executor: Executor;
  queue: SymbolQueue;
  locks: SymbolLocks;
  log: Logger;
  signal: AbortSignal;
}

/** How often the periodic sweep looks for records and plans whose owner is gone. */
export const RECOVERY_INTERVAL_MS = 15_000;

/**
 * Exactly one result per plan across crashes (SPEC §3.1, §7). At startup, before new plans are taken,
 * every execution record that is not final (or final without its result) is resolved: CLAIMED → ERROR
 * internal_error (nothing was sent), SUBMITTING/UNKNOWN → looked up by client order id, FILLED → its result
 * published; EXECUTE plans that were published but never claimed are resumed. A periodic sweep does the
 * same for records and plans left by dead instances (only when their symbol lock is free).
 */
export class Recovery {
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;

  constructor(private readonly o: RecoveryOptions) {}

  /** Resolve every unfinished execution record (awaited), then queue the open plans. */
  async runStartup(): Promise<{ records: number; plans: number }> {
    const records = await this.sweepRecords(true);
    await this.o.queue.idle();
    const plans = await this.sweepOpenPlans(true);
    this.o.log.info({ records, plans }, "startup recovery done");
    return { records, plans };
  }

  startPeriodic(intervalMs = RECOVERY_INTERVAL_MS): void {
    this.timer = setInterval(() => {
      if (this.sweeping !== null) return;
      this.sweeping = (async () => {
        try {
          await this.sweepRecords(false);
          await this.sweepOpenPlans(false);
        } catch (err) {
          this.o.log.warn({ err }, "recovery sweep failed");
        } finally {
          this.sweeping = null;
        }
      })();
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.sweeping;
  }

  /** Queue every execution record that needs work; returns how many were queued. */
  private async sweepRecords(startup: boolean): Promise<number> {
    const { redis, queue } = this.o;
    let queued = 0;
    let cursor = "0";
    do {
      const [next, batch] = await redis.scan(cursor, "MATCH", keyPatterns.execRecord, "COUNT", 500);
      cursor = next;
      if (batch.length === 0) continue;
      const pipe = redis.pipeline();
      for (const key of batch) pipe.hmget(key, "state", "result_published", "symbol");
      const rows = (await pipe.exec()) ?? [];
      batch.forEach((key, i) => {
        const planId = symbolFromKey(key, keyPatterns.execRecord);
        const row = rows[i];
        if (planId === null || row === undefined || row[0] !== null) return;
        const [state, published, symbol] = row[1] as (string | null)[];
        if (state === null || state === undefined || !symbol) return;
        const done = FINAL_STATES.has(state as never) && published === "1";
        if (done || queue.has(planId)) return;
        const ok = queue.enqueue(symbol, planId, async () => {
          await this.o.locks.withLock(symbol, this.o.signal, () => this.resolveRecord(planId), {
            ...(startup ? {} : { maxWaitMs: 0 }),
          });
        });
        if (ok) queued++;
      });
    } while (cursor !== "0");
    return queued;
  }

  /** One record, under its symbol lock (re-read: its owner may have finished it meanwhile). */
  private async resolveRecord(planId: string): Promise<void> {
    const { log, finisher, sender } = this.o;
    const stored = await readRecord(this.o.redis, planId);
    if (stored === null) return;
    const { record, raw } = stored;
    const waitMs = Number(raw[RECORD_EXTRA.permitWaitMs]);
    const base = {
      planId,
      symbol: record.symbol,
      ...(Number.isFinite(waitMs) ? { permitWaitMs: waitMs } : {}),
    };
    log.info(
      { planId, state: record.state, resultPublished: record.resultPublished },
      "recovering execution record",
    );
    if (FINAL_STATES.has(record.state)) {
      if (!record.resultPublished) await this.o.results.publish(resultFromRecord(stored), "owned");
      return;
    }
    const interrupted = {
      ...base,
      decision: "ERROR" as const,
      reason: "internal_error" as const,
      executed: false,
      wouldExecute: false,
    };
    if (record.state === "CLAIMED") {
      return finisher.endClaimed(
        { ...interrupted, detail: "interrupted before submit" },
        { status: "error" },
      );
    }
    // SUBMITTING or UNKNOWN: an order may exist; only the venue can tell.
    const cid = record.clientOrderId;
    if (cid === undefined || record.side === undefined) {
      return finisher.endClaimed(
        { ...interrupted, detail: "interrupted before submit (no client order id recorded)" },
        { status: "error", from: ["SUBMITTING", "UNKNOWN"] },
      );
    }
    if (sender === null) {
      log.warn({ planId }, "cannot look up the order without an exchange (dry_run); record left as is");
      return;
    }
    const conditional = cid.startsWith("qp3-s-");
    const end = await sender.resolve(
      record.symbol,
      cid,
      record.side,
      conditional,
      RECOVERY_RESOLVE_DELAYS_MS,
    );
    if (end.kind === "filled") {
      const detail = `resolved by client order id after a restart (${end.status})`;
      const stopPrice = raw[RECORD_EXTRA.stopPrice];
      return finisher.endFilled({ ...base, detail }, end.order, conditional ? "stop" : "close", {
        ...(stopPrice !== undefined ? { stopPrice } : {}),
      });
    }
    if (end.kind === "notFilled") {
      const { decision, reason, detail } = end;
      return finisher.endRejected(
        { ...base, decision, reason, detail, executed: false, wouldExecute: false },
        end.status,
      );
    }
    log.warn({ planId, detail: end.detail }, "order still unknown; retried by the next sweep");
  }

  /** Resume EXECUTE plans that were published but never claimed (their instance died before the claim). */
  private async sweepOpenPlans(startup: boolean): Promise<number> {
    const { redis, queue, log } = this.o;
    const minAgeMs = startup ? 0 : this.o.cfg.permitWaitMs + 5000;
    let resumed = 0;
    let cursor = "0";
    do {
      const [next, flat] = await redis.hscan(keys.applyOpenPlans, cursor, "COUNT", 500);
      cursor = next;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const planId = flat[i] as string;
        if (queue.has(planId)) continue;
        const entry = parseOpenPlan(flat[i + 1] as string);
        if (entry === null) {
          log.error({ planId }, "unreadable open plan dropped");
          await redis.hdel(keys.applyOpenPlans, planId);
          continue;
        }
        if (Date.now() - entry.publishedAtMs < minAgeMs) continue;
        const [resultSeen, recordSeen] = await Promise.all([
          redis.exists(keys.resultPublished(planId)),
          redis.exists(keys.execRecord(planId)),
        ]);
        if (resultSeen === 1) {
          await redis.hdel(keys.applyOpenPlans, planId);
          continue;
        }
        if (recordSeen === 1) continue; // the record sweep finishes it
        log.info({ planId, symbol: entry.plan.symbol }, "resuming a plan published but never claimed");
        if (this.o.executor.submit(entry.plan)) resumed++;
      }
    } while (cursor !== "0");
    return resumed;
  }
}

function parseOpenPlan(json: string): { plan: ApplyPlan; publishedAtMs: number } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== "object") return null;
  const entry = parsed as Partial<OpenPlanEntry>;
  const plan = decodeApplyPlan(entry.plan);
  if (!plan.ok || plan.value.decision !== "EXECUTE") return null;
  const at = typeof entry.published_at_ms === "number" ? entry.published_at_ms : 0;
  return { plan: plan.value, publishedAtMs: at };
}
