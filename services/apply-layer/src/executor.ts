import { type ApplyPlan, keys } from "@quantum/contracts";
import type { Exchange, OrderRequest } from "@quantum/exchange";
import type { ApplyMetrics } from "@quantum/metrics";
import {
  type BeginSubmitResult,
  beginSubmit,
  claimExecution,
  type PermitWaiter,
  type PermitWaitResult,
  transitionExec,
  waitAndConsumePermits,
} from "@quantum/permits";
import type { Logger } from "@quantum/runtime";
import type { Redis } from "ioredis";
import { ApplyStateError } from "./apply-state-error.js";
import type { ApplyConfig, CrashPoint } from "./config.js";
import type { SymbolLocks } from "./locks.js";
import { OrderPlanner, type Stop } from "./order-plan.js";
import { OrderSender } from "./orders.js";
import { type Finisher, RECORD_EXTRA } from "./outcomes.js";
import type { ClaimedPosition } from "./positions.js";
import type { ResultPublisher, ResultSpec } from "./results.js";
import type { SymbolQueue } from "./symbol-queue.js";

export interface ExecutorOptions {
  redis: Redis;
  waiter: PermitWaiter;
  /** null in dry_run (EXECUTE plans never reach the executor there). */
  exchange: Exchange | null;
  cfg: ApplyConfig;
  metrics: ApplyMetrics;
  results: ResultPublisher;
  finisher: Finisher;
  queue: SymbolQueue;
  locks: SymbolLocks;
  log: Logger;
  crash: (point: CrashPoint) => void;
  /** Aborted at shutdown: ends permit waits, leaves their plans open for the next start. */
  signal: AbortSignal;
}

/**
 * Runs EXECUTE plans (SPEC §3.1): one per symbol at a time (in-process queue + Redis symbol lock), the
 * event-driven permit wait and atomic consume, content checks, the kill switch re-check right before the
 * order, one order with the plan's deterministic client id, then the plan's one result.
 */
export class Executor {
  private readonly sender: OrderSender | null;
  private readonly planner: OrderPlanner;

  constructor(private readonly o: ExecutorOptions) {
    this.sender = o.exchange === null ? null : new OrderSender(o.exchange, o.metrics, o.log);
    this.planner = new OrderPlanner(o.exchange, o.metrics, o.log);
  }

  /** Queue a published EXECUTE plan; false when it is already queued here (or the executor stopped). */
  submit(plan: ApplyPlan): boolean {
    return this.o.queue.enqueue(plan.symbol, plan.planId, async () => {
      const r = await this.o.locks.withLock(plan.symbol, this.o.signal, () => this.execute(plan));
      if (!r.ran) this.o.log.warn({ planId: plan.planId }, "plan left open: symbol lock not taken");
    });
  }

  private async execute(plan: ApplyPlan): Promise<void> {
    const { cfg, log } = this.o;
    const base = { planId: plan.planId, symbol: plan.symbol };
    if (cfg.testnetBypass) {
      const claim = await claimExecution(this.o.redis, {
        ...base,
        mode: cfg.mode,
        execRecordTtlSec: cfg.execRecordTtlSec,
      });
      log.warn(
        { ...base, outcome: claim.outcome },
        "TESTNET MODE - permit bypass claim (NO PRODUCTION USAGE)",
      );
      if (claim.outcome !== "ok") return this.endUnclaimed(plan, claim.outcome, 0);
      return this.afterClaim(plan, null, 0);
    }
    const waited = await waitAndConsumePermits({
      redis: this.o.redis,
      waiter: this.o.waiter,
      ...base,
      maxWaitMs: cfg.permitWaitMs,
      stepMs: cfg.permitStepMs,
      mode: cfg.mode,
      execRecordTtlSec: cfg.execRecordTtlSec,
      signal: this.o.signal,
    });
    this.o.metrics.permitWaitMs.set(waited.waitMs);
    this.o.metrics.permitWaitSeconds.observe(waited.waitMs / 1000);
    log.info({ ...base, outcome: waited.outcome, waitMs: Math.round(waited.waitMs) }, "permit wait ended");
    if (waited.outcome === "ok") return this.afterClaim(plan, waited, waited.waitMs);
    return this.endUnclaimed(plan, waited.outcome, waited.waitMs, waited);
  }

  /** The wait (or bypass claim) ended without a claim: one result, unless someone claimed the plan. */
  private async endUnclaimed(
    plan: ApplyPlan,
    outcome: PermitWaitResult["outcome"],
    waitMs: number,
    waited?: PermitWaitResult,
  ): Promise<void> {
    const { metrics } = this.o;
    let stop: Stop;
    switch (outcome) {
      case "already_executed":
        return this.o.finisher.publishExisting(plan.planId);
      case "aborted":
        this.o.log.info({ planId: plan.planId }, "permit wait aborted by shutdown; plan stays open");
        return;
      case "kill_switch_active":
      case "trading_state_halted":
        metrics.executed.inc({ status: "kill_switch" });
        metrics.killSwitchActive.set(1);
        stop = { decision: "BLOCKED", reason: outcome, detail: "checked in the consume script" };
        break;
      case "governor_blocked": {
        metrics.governorBlock.inc({ reason: "governor_blocked" });
        const block = waited?.outcome === "governor_blocked" ? waited.block : null;
        stop = { decision: "BLOCKED", reason: "governor_blocked", detail: block?.reason ?? block?.raw ?? "" };
        break;
      }
      case "timeout": {
        const t = waited?.outcome === "timeout" ? waited : null;
        const missing = t?.missing ?? "missing_both";
        stop = {
          decision: "BLOCKED",
          reason: `permit_timeout_or_missing:${missing}`,
          detail: `waited ${Math.round(waitMs)} ms; governor_ttl_ms=${t?.governorTtlMs ?? -2} p33_ttl_ms=${t?.p33TtlMs ?? -2}`,
        };
        break;
      }
      case "error": {
        const err = waited?.outcome === "error" ? waited.error.message : "redis error";
        metrics.executed.inc({ status: "error" });
        stop = { decision: "ERROR", reason: "internal_error", detail: `permit wait failed: ${err}` };
        break;
      }
      default:
        return;
    }
    const spec: ResultSpec = {
      ...this.baseSpec(plan, waitMs),
      ...stop,
      executed: false,
      wouldExecute: false,
    };
    const out = await this.o.results.publish(spec, "unclaimed");
    if (out?.outcome === "claimed") await this.o.finisher.publishExisting(plan.planId);
  }

  private baseSpec(plan: ApplyPlan, waitMs: number): Pick<ResultSpec, "planId" | "symbol" | "permitWaitMs"> {
    return { planId: plan.planId, symbol: plan.symbol, permitWaitMs: waitMs };
  }

  /** Both permits consumed (or the bypass claim made): the record is CLAIMED and owned by this call. */
  private async afterClaim(
    plan: ApplyPlan,
    permits: Extract<PermitWaitResult, { outcome: "ok" }> | null,
    waitMs: number,
  ): Promise<void> {
    this.o.crash("after_claim");
    const end = (stop: Stop) =>
      this.o.finisher.endClaimed(
        { ...this.baseSpec(plan, waitMs), ...stop, executed: false, wouldExecute: false },
        stop.status !== undefined ? { status: stop.status } : {},
      );
    let position: ClaimedPosition | Stop;
    try {
      position =
        permits === null ? await this.planner.bypassPosition(plan) : this.planner.judgePermits(permits);
    } catch (err) {
      return end({
        decision: "ERROR",
        reason: "internal_error",
        detail: `position unavailable: ${String(err)}`,
        status: "error",
      });
    }
    if ("reason" in position) return end(position);
    let req: OrderRequest | Stop;
    try {
      req = await this.planner.buildOrder(plan, position);
    } catch (err) {
      return end({
        decision: "ERROR",
        reason: "internal_error",
        detail: `order not built: ${String(err)}`,
        status: "error",
      });
    }
    if ("reason" in req) return end(req);
    // The gate: kill switch, trading state and CLAIMED → SUBMITTING in one script, so no order starts once
    // the kill switch SET has returned (orders already past it are what `quantumctl kill on` waits for).
    const gate = await beginSubmit(this.o.redis, {
      planId: plan.planId,
      mode: this.o.cfg.mode,
      fields: {
        client_order_id: req.clientOrderId,
        side: req.side,
        ...(req.quantity !== undefined ? { qty: req.quantity } : {}),
        ...(req.stopPrice !== undefined ? { [RECORD_EXTRA.stopPrice]: req.stopPrice } : {}),
        [RECORD_EXTRA.action]: plan.action,
        [RECORD_EXTRA.permitWaitMs]: String(Math.round(waitMs * 1000) / 1000),
      },
    });
    const halted = gateStop(gate);
    this.o.metrics.killSwitchActive.set(halted !== null || this.o.cfg.envKillSwitch ? 1 : 0);
    if (halted !== null) return end(halted);
    if (gate.outcome !== "ok") {
      this.o.log.error({ planId: plan.planId, gate }, "claimed record changed under us; no order sent");
      return;
    }
    this.o.crash("after_submitting");
    await this.sendAndFinish(plan, req, waitMs);
  }

  private async sendAndFinish(plan: ApplyPlan, req: OrderRequest, waitMs: number): Promise<void> {
    const sender = this.sender;
    if (sender === null) throw new ApplyStateError("APPLY_NO_EXCHANGE", "no exchange in dry_run");
    const spec = this.baseSpec(plan, waitMs);
    const stop = req.type === "STOP_MARKET";
    if (stop) {
      const cancelled = await this.cancelPreviousStop(plan.symbol, req.clientOrderId);
      if (cancelled !== null)
        return this.o.finisher.endRejected({ ...spec, ...cancelled, executed: false }, "rejected");
    }
    const end = await sender.send(req, async (detail) => {
      await transitionExec(this.o.redis, {
        planId: plan.planId,
        expected: "SUBMITTING",
        next: "UNKNOWN",
        fields: { detail },
      });
    });
    if (end.kind === "filled") {
      this.o.crash("after_fill");
      const detail = stop
        ? `protective stop ${req.stopPrice} placed`
        : `filled ${end.order.executedQty} @ ${end.order.avgPrice}`;
      const steps = [{ step: plan.action, status: end.status, order_id: end.order.orderId }];
      return this.o.finisher.endFilled(
        { ...spec, detail, stepsResults: steps },
        end.order,
        stop ? "stop" : "close",
        {
          ...(req.stopPrice !== undefined ? { stopPrice: req.stopPrice } : {}),
        },
      );
    }
    if (end.kind === "notFilled") {
      return this.o.finisher.endRejected(
        {
          ...spec,
          decision: end.decision,
          reason: end.reason,
          detail: end.detail,
          executed: false,
          wouldExecute: false,
        },
        end.status,
      );
    }
    this.o.log.error(
      { planId: plan.planId, detail: end.detail },
      "order outcome still unknown; recovery resolves it",
    );
  }

  /** Cancel this system's previous protective stop of the symbol; a Stop when it could not be cancelled. */
  private async cancelPreviousStop(symbol: string, newClientOrderId: string): Promise<Stop | null> {
    const prev = await this.o.redis.hget(keys.protectiveStop(symbol), "client_order_id");
    if (prev === null || prev === "" || prev === newClientOrderId) return null;
    const exchange = this.o.exchange;
    if (exchange === null) throw new ApplyStateError("APPLY_NO_EXCHANGE", "no exchange in dry_run");
    const r = await exchange.cancelOrder(symbol, prev, { conditional: true });
    if (r.kind === "canceled" || r.kind === "notOpen") return null;
    if (r.kind === "rateLimited") {
      return {
        decision: "BLOCKED",
        reason: "exchange_rate_limited",
        detail: `cancel of ${prev}: retry after ${r.retryAfterMs} ms`,
      };
    }
    const why = r.kind === "rejected" || r.kind === "fatal" ? `${r.code} ${r.msg}` : r.detail;
    return {
      decision: "ERROR",
      reason: "exchange_rejected",
      detail: `cancel of previous stop ${prev} failed: ${why}`,
    };
  }
}

/** The Stop for a gate that refused because of the kill switch or the trading state; null otherwise. */
function gateStop(gate: BeginSubmitResult): Stop | null {
  if (gate.outcome === "kill_switch_active") {
    return {
      decision: "BLOCKED",
      reason: "kill_switch_active",
      detail: "checked at the submit gate, right before the order",
      status: "kill_switch",
    };
  }
  if (gate.outcome === "trading_state_halted") {
    return {
      decision: "BLOCKED",
      reason: "trading_state_halted",
      detail: "checked at the submit gate, right before the order",
      status: "kill_switch",
    };
  }
  return null;
}
