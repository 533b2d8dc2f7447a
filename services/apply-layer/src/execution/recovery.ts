import { type ApplyPlan, decodeApplyPlan, keys } from "@quantum/contracts";
import { isConditionalClientOrderId } from "@quantum/exchange";
import type { Logger } from "@quantum/runtime";
import type { Redis } from "ioredis";
import type { ApplyConfig } from "../config.js";
import type { OpenPlanEntry } from "../proposal-handler.js";
import type { ResultPublisher } from "../result-publisher.js";
import { LOCK_TTL_MS, type LockHold, type SymbolLocks } from "../symbol-locks.js";
import type { SymbolQueue } from "../symbol-queue.js";
import {
  type ChunkFill,
  chunksDone,
  FINAL_STATES,
  plannedChunks,
  RECORD_EXTRA,
  readRecord,
  resultFromRecord,
} from "./execution-record.js";
import type { Executor } from "./executor.js";
import { RECOVERY_RESOLVE_DELAYS_MS } from "./order-sender.js";

export interface RecoveryOptions {
  redis: Redis;
  cfg: ApplyConfig;
  results: ResultPublisher;
  executor: Executor;
  queue: SymbolQueue;
  locks: SymbolLocks;
  log: Logger;
  signal: AbortSignal;
}

/** How often the periodic sweep looks for records and plans whose holder is gone. */
export const RECOVERY_INTERVAL_MS = 15_000;

/**
 * Exactly one result per plan across crashes. At startup, before new plans are taken, every execution record
 * listed in the open-execution index (keys.execOpen; never a keyspace scan) is resolved under its symbol lock:
 * CLAIMED → ERROR internal_error (nothing was sent); SUBMITTING/UNKNOWN → looked up by client order id;
 * final → its result published. Recovery itself never sends: a close with chunks left goes back through the
 * executor's funnel, and an interrupted UPDATE_SL goes to ProtectiveStops (which may place the previous stop
 * again). EXECUTE plans published but never claimed are resumed through the executor's entry gate. A periodic
 * sweep does the same for records whose holder is gone: their symbol lock is free and the record was not
 * touched for a lock TTL (a live holder refreshes its lock and moves its record).
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

  /** Queue every indexed execution record that needs work; returns how many were queued. */
  private async sweepRecords(startup: boolean): Promise<number> {
    const { redis, queue } = this.o;
    const planIds = await redis.zrange(keys.execOpen, 0, -1);
    if (planIds.length === 0) return 0;
    const pipe = redis.pipeline();
    for (const id of planIds) pipe.hmget(keys.execRecord(id), "state", "result_published", "symbol");
    const rows = (await pipe.exec()) ?? [];
    const gone: string[] = [];
    let queued = 0;
    planIds.forEach((planId, i) => {
      const row = rows[i];
      if (row === undefined || row[0] !== null) return;
      const [state, published, symbol] = row[1] as (string | null)[];
      if (state === null || state === undefined || !symbol) {
        gone.push(planId); // expired record
        return;
      }
      if (FINAL_STATES.has(state as never) && published === "1") {
        gone.push(planId);
        return;
      }
      if (queue.has(planId)) return;
      const ok = queue.enqueue(symbol, planId, async () => {
        await this.o.locks.withLock(
          symbol,
          this.o.signal,
          (hold) => this.resolveRecord(planId, hold, startup),
          {
            ...(startup ? {} : { maxWaitMs: 0 }),
          },
        );
      });
      if (ok) queued++;
    });
    if (gone.length > 0) await redis.zrem(keys.execOpen, ...gone);
    return queued;
  }

  /** One record, under its symbol lock (re-read: its holder may have finished it meanwhile). */
  private async resolveRecord(planId: string, hold: LockHold, startup: boolean): Promise<void> {
    const { log, executor } = this.o;
    const { finisher } = executor;
    const stored = await readRecord(this.o.redis, planId);
    if (stored === null) return;
    const { record, raw } = stored;
    if (FINAL_STATES.has(record.state)) {
      if (!record.resultPublished) await this.o.results.publish(resultFromRecord(stored), "owned");
      return;
    }
    const touchedMs = (record.updatedAt ?? record.createdAt) * 1000;
    if (!startup && Date.now() - touchedMs < LOCK_TTL_MS) return; // a live holder may still be on it
    const waitMs = Number(raw[RECORD_EXTRA.permitWaitMs]);
    const base = {
      planId,
      symbol: record.symbol,
      ...(Number.isFinite(waitMs) ? { permitWaitMs: waitMs } : {}),
    };
    log.info({ planId, state: record.state }, "recovering execution record");
    const cid = record.clientOrderId;
    const stop =
      raw[RECORD_EXTRA.action] === "UPDATE_SL" || (cid !== undefined && isConditionalClientOrderId(cid));
    if (stop && executor.stops !== null) return executor.stops.recover(stored, base);
    const interrupted = {
      ...base,
      decision: "ERROR" as const,
      reason: "internal_error" as const,
      executed: false,
      wouldExecute: false,
    };
    if (record.state === "CLAIMED" || cid === undefined || record.side === undefined) {
      return finisher.endClaimed(
        { ...interrupted, context: { interrupted: "before_submit" } },
        { status: "error", from: ["CLAIMED", "SUBMITTING", "UNKNOWN"] },
      );
    }
    const sender = executor.sender;
    if (sender === null) {
      log.warn({ planId }, "cannot look up the order without an exchange (dry_run); record left as is");
      return;
    }
    // SUBMITTING or UNKNOWN: an order may exist; only the venue can tell.
    const done = chunksDone(raw);
    const planned = plannedChunks(raw);
    const end = done.some((f) => f.clientOrderId === cid)
      ? null
      : await sender.resolve(record.symbol, cid, record.side, false, RECOVERY_RESOLVE_DELAYS_MS);
    if (end?.kind === "unresolved") {
      log.warn({ planId, detail: end.detail }, "order still unknown; retried by the next sweep");
      return;
    }
    const fills: ChunkFill[] =
      end?.kind === "filled"
        ? [
            ...done,
            {
              orderId: end.order.orderId,
              clientOrderId: end.order.clientOrderId,
              executedQty: end.order.executedQty ?? "0",
              avgPrice: end.order.avgPrice ?? "0",
            },
          ]
        : done;
    if (end !== null && end.kind === "notFilled" && fills.length === 0) {
      const { decision, reason, context } = end;
      return finisher.endRejected(
        { ...base, decision, reason, context, executed: false, wouldExecute: false },
        end.status,
      );
    }
    // Mid-way through a chunked close: the chunks not at the venue go out through the funnel (lookup first).
    if (fills.length < planned.length) return executor.continueClose(stored, fills, hold);
    const context = {
      resolved_by: "client_order_id",
      after: "restart",
      order_status: end?.kind === "filled" ? end.status : "chunks_done",
    };
    return finisher.endFilled({ ...base, context }, fills, record.side);
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
