import type { ApplyPlan, ReasonContext } from "@quantum/contracts";
import type { Exchange, OrderSide } from "@quantum/exchange";
import type { ApplyMetrics } from "@quantum/metrics";
import type { PermitWaiter } from "@quantum/permits";
import type { Logger } from "@quantum/runtime";
import type { Redis } from "ioredis";
import { ApplyStateError } from "../apply-state-error.js";
import type { ApplyConfig, CrashPoint } from "../config.js";
import type { ResultPublisher } from "../result-publisher.js";
import type { LockHold, SymbolLocks } from "../symbol-locks.js";
import type { SymbolQueue } from "../symbol-queue.js";
import { EntryGate } from "./entry-gate.js";
import {
  type ChunkFill,
  markUnknown,
  plannedChunks,
  RECORD_EXTRA,
  recordChunkFill,
  type StoredRecord,
} from "./execution-record.js";
import { Finisher } from "./finisher.js";
import { type ClaimedPosition, type CloseOrders, closeChunkRequest, OrderPlanner } from "./order-planner.js";
import { OrderSender } from "./order-sender.js";
import { PlanClaimer } from "./plan-claimer.js";
import { ProtectiveStops } from "./protective-stops.js";
import { isStop, type Stop, stopWith } from "./stop.js";
import { type PlanRun, SubmitGate } from "./submit-gate.js";

export interface ExecutorOptions {
  redis: Redis;
  waiter: PermitWaiter;
  /** null in dry_run (the entry gate ends every plan there before anything is consumed). */
  exchange: Exchange | null;
  cfg: ApplyConfig;
  metrics: ApplyMetrics;
  results: ResultPublisher;
  queue: SymbolQueue;
  locks: SymbolLocks;
  log: Logger;
  crash: (point: CrashPoint) => void;
  /** Aborted at shutdown: ends permit waits, leaves their plans open for the next start. */
  signal: AbortSignal;
}

/**
 * The one funnel of a plan after planning, read top to bottom: one plan per symbol at a time (in-process
 * queue + Redis symbol lock) → the entry gate (current config and control keys, before anything is waited
 * for or consumed) → the claim (permit wait and atomic consume) → the order plan (permit contents, chunks,
 * side) → for each order: lookup by client id, the submit gate as the very last step, the request → the
 * finish (final record state, cooldown or protective stop, the plan's one result). Fresh plans, plans resumed
 * after a restart and closes continued by recovery all come through here.
 */
export class Executor {
  readonly finisher: Finisher;
  readonly sender: OrderSender | null;
  readonly stops: ProtectiveStops | null;
  private readonly entryGate: EntryGate;
  private readonly claimer: PlanClaimer;
  private readonly planner: OrderPlanner;
  private readonly submitGate: SubmitGate;

  constructor(private readonly o: ExecutorOptions) {
    const { redis, cfg, metrics, log } = o;
    this.finisher = new Finisher({ redis, cfg, metrics, results: o.results, log, crash: o.crash });
    this.entryGate = new EntryGate(redis, cfg);
    this.claimer = new PlanClaimer({ redis, waiter: o.waiter, cfg, metrics, log });
    this.planner = new OrderPlanner(redis, o.exchange, cfg.venue, cfg.mode, metrics, log);
    this.submitGate = new SubmitGate(redis, cfg, metrics);
    this.sender =
      o.exchange === null
        ? null
        : new OrderSender({
            exchange: o.exchange,
            metrics,
            log,
            rateLimitMaxWaitMs: cfg.rateLimitMaxWaitMs,
            signal: o.signal,
          });
    this.stops =
      o.exchange === null || this.sender === null
        ? null
        : new ProtectiveStops({
            redis,
            exchange: o.exchange,
            sender: this.sender,
            gate: this.submitGate,
            finisher: this.finisher,
            cfg,
            log,
            crash: o.crash,
          });
  }

  /** Queue a plan (fresh or resumed); false when it is already queued here (or the executor stopped). */
  submit(plan: ApplyPlan): boolean {
    return this.o.queue.enqueue(plan.symbol, plan.planId, async () => {
      const r = await this.o.locks.withLock(plan.symbol, this.o.signal, (hold) => this.run(plan, hold));
      if (!r.ran) this.o.log.warn({ planId: plan.planId }, "plan left open: symbol lock not taken");
    });
  }

  private async run(plan: ApplyPlan, hold: LockHold): Promise<void> {
    const { finisher } = this;
    const base = { planId: plan.planId, symbol: plan.symbol };
    const entry = await this.entryGate.check(plan);
    if (entry !== null) {
      if (entry.status !== undefined) this.o.metrics.executed.inc({ status: entry.status });
      return finisher.endUnclaimed({
        ...base,
        ...entry,
        executed: false,
        wouldExecute: entry.decision === "EXECUTE",
      });
    }
    const claim = await this.claimer.claim(plan, this.o.signal);
    switch (claim.kind) {
      case "aborted":
        this.o.log.info(base, "permit wait aborted by shutdown; plan stays open");
        return;
      case "claimedElsewhere":
        return finisher.publishExisting(plan.planId);
      case "unclaimed":
        return finisher.endUnclaimed({
          ...base,
          ...claim.stop,
          permitWaitMs: claim.waitMs,
          executed: false,
          wouldExecute: false,
        });
      case "claimed":
        break;
    }
    this.o.crash("after_claim");
    const run: PlanRun = { ...base, action: plan.action, lockToken: hold.token, waitMs: claim.waitMs };
    const end = (stop: Stop) => this.endClaimed(run, stop);
    let position: ClaimedPosition | Stop;
    try {
      position =
        claim.permits === null
          ? await this.planner.bypassPosition(plan)
          : await this.planner.judgePermits(plan, claim.permits);
    } catch (err) {
      return end(stopWith("ERROR", "internal_error", { failed: "position", error: String(err) }, "error"));
    }
    if (isStop(position)) return end(position);
    try {
      if (plan.action === "UPDATE_SL") {
        const req = await this.planner.buildStop(plan, position);
        if (isStop(req)) return end(req);
        return await this.requireStops().replace(run, req);
      }
      const orders = await this.planner.buildClose(plan, position);
      if (isStop(orders)) return end(orders);
      return await this.sendChunks(run, orders, []);
    } catch (err) {
      if (err instanceof ApplyStateError) throw err;
      return end(stopWith("ERROR", "internal_error", { failed: "order_build", error: String(err) }, "error"));
    }
  }

  private requireSender(): OrderSender {
    if (this.sender === null) throw new ApplyStateError("APPLY_NO_EXCHANGE", "no exchange in dry_run");
    return this.sender;
  }

  private requireStops(): ProtectiveStops {
    if (this.stops === null) throw new ApplyStateError("APPLY_NO_EXCHANGE", "no exchange in dry_run");
    return this.stops;
  }

  private endClaimed(run: PlanRun, stop: Stop): Promise<void> {
    return this.finisher.endClaimed(
      {
        planId: run.planId,
        symbol: run.symbol,
        permitWaitMs: run.waitMs,
        ...stop,
        executed: false,
        wouldExecute: false,
      },
      { ...(stop.status !== undefined ? { status: stop.status } : {}), from: ["CLAIMED", "SUBMITTING"] },
    );
  }

  /**
   * Send the chunks of a close from `done.length` on, each exactly once (its own client id, looked up before
   * it is sent unless the venue itself never places a client id twice), each behind the submit gate; then the
   * one result summing them. The chunk plan is written by the first chunk's gate, atomically with the move to
   * SUBMITTING, so every record that may have an order at the venue names its chunks.
   */
  private async sendChunks(run: PlanRun, orders: CloseOrders, already: readonly ChunkFill[]): Promise<void> {
    const sender = this.requireSender();
    const spec = { planId: run.planId, symbol: run.symbol, permitWaitMs: run.waitMs };
    const done = [...already];
    const n = orders.chunks.length;
    const chunkPlan = {
      [RECORD_EXTRA.chunks]: orders.chunks.join(","),
      [RECORD_EXTRA.positionSide]: orders.positionSide ?? "",
    };
    for (let i = done.length; i < n; i++) {
      const req = closeChunkRequest(run.planId, run.symbol, orders, i);
      const first = i === 0 ? (["CLAIMED", "SUBMITTING"] as const) : (["SUBMITTING"] as const);
      const end = await sender.place(req, {
        gate: async (attempt) => {
          const verdict = await this.submitGate.pass(run, attempt === 0 ? first : ["SUBMITTING"], {
            ...(i === 0 ? chunkPlan : {}),
            client_order_id: req.clientOrderId,
            side: req.side,
            qty: req.quantity ?? "",
          });
          if (verdict.kind === "go") this.o.crash("after_submitting");
          return verdict;
        },
        onUnknown: (detail) => markUnknown(this.o.redis, run.planId, detail),
      });
      if (end.kind === "filled") {
        done.push({
          orderId: end.order.orderId,
          clientOrderId: end.order.clientOrderId,
          executedQty: end.order.executedQty ?? "0",
          avgPrice: end.order.avgPrice ?? "0",
        });
        this.o.crash("after_fill");
        if (i < n - 1) await recordChunkFill(this.o.redis, run.planId, done);
        continue;
      }
      if (end.kind === "abandoned" || end.kind === "unresolved") {
        const why = end.kind === "abandoned" ? end.why : end.detail;
        this.o.log.error(
          { planId: run.planId, chunk: i, why },
          "order request left to recovery; no further requests",
        );
        return;
      }
      const stop: Stop = end.kind === "stopped" ? end.stop : end;
      if (done.length > 0) {
        const context = {
          filled_chunks: done.length,
          chunks: n,
          stopped_chunk: i + 1,
          stopped_by: stop.reason,
          ...stop.context,
        };
        return this.finisher.endFilled({ ...spec, context }, done, orders.side);
      }
      if (end.kind === "stopped") return this.endClaimed(run, end.stop);
      return this.finisher.endRejected(
        {
          ...spec,
          decision: end.decision,
          reason: end.reason,
          context: end.context,
          executed: false,
          wouldExecute: false,
        },
        end.status,
      );
    }
    const last = done[done.length - 1];
    const context: ReasonContext =
      n === 1 && last !== undefined
        ? { filled_qty: last.executedQty, avg_price: last.avgPrice }
        : { filled_chunks: n };
    const steps = done.map((f, i) => ({
      step: run.action,
      chunk: i,
      order_id: f.orderId,
      executed_qty: f.executedQty,
    }));
    return this.finisher.endFilled({ ...spec, context, stepsResults: steps }, done, orders.side);
  }

  /**
   * Recovery found a close whose chunk in flight is resolved and more chunks are planned: the rest go out
   * through the same entry checks and submit gate as a fresh plan, under the lock recovery holds.
   */
  async continueClose(stored: StoredRecord, fills: readonly ChunkFill[], hold: LockHold): Promise<void> {
    const { record, raw } = stored;
    const waitMs = Number(raw[RECORD_EXTRA.permitWaitMs]);
    const run: PlanRun = {
      planId: record.planId,
      symbol: record.symbol,
      action: raw[RECORD_EXTRA.action] ?? "",
      lockToken: hold.token,
      waitMs: Number.isFinite(waitMs) ? waitMs : 0,
    };
    const leg = raw[RECORD_EXTRA.positionSide];
    const orders: CloseOrders = {
      side: record.side as OrderSide,
      positionSide: leg === "LONG" || leg === "SHORT" ? leg : null,
      chunks: plannedChunks(raw),
    };
    await recordChunkFill(this.o.redis, run.planId, fills);
    const entry = await this.entryGate.check(run);
    if (entry !== null && entry.decision !== "EXECUTE") {
      return this.finisher.endFilled(
        {
          planId: run.planId,
          symbol: run.symbol,
          permitWaitMs: run.waitMs,
          context: {
            filled_chunks: fills.length,
            chunks: orders.chunks.length,
            stopped_by: entry.reason,
            ...entry.context,
          },
        },
        fills,
        orders.side,
      );
    }
    return this.sendChunks(run, orders, fills);
  }
}
