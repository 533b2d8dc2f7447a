import {
  type ApplyPlan,
  type ApplyReason,
  type Decision,
  decodeGovernorPermit,
  decodeP33Permit,
  type ExecutedStatus,
  P33_DENY_REASONS,
} from "@quantum/contracts";
import {
  clientOrderIdFor,
  type Exchange,
  type OrderRequest,
  type PositionMode,
  roundOrderQuantity,
} from "@quantum/exchange";
import type { ApplyMetrics } from "@quantum/metrics";
import type { PermitWaitResult } from "@quantum/permits";
import type { Logger } from "@quantum/runtime";
import { Decimal } from "decimal.js";
import { ApplyStateError } from "./apply-state-error.js";
import { CLOSE_FRACTIONS, isCloseAction } from "./planner.js";
import { type ClaimedPosition, positionFromExchange, roundToTick } from "./positions.js";

/** Why a claimed plan ends without an order. */
export type Stop = { decision: Decision; reason: ApplyReason; detail: string; status?: ExecutedStatus };

const POSITION_MODE_TTL_MS = 60_000;

/**
 * Turns a claimed plan into the one order to send (SPEC §2.4, §3.1): judges the consumed permits
 * (Governor granted, P3.3 allow, safe_qty > 0), floors safe_qty to the symbol's step, picks the side
 * opposite to the position, and uses positionSide instead of reduceOnly in hedge mode.
 */
export class OrderPlanner {
  private positionMode: { mode: PositionMode; at: number } | null = null;

  constructor(
    private readonly exchange: Exchange | null,
    private readonly metrics: ApplyMetrics,
    private readonly log: Logger,
  ) {}

  /** Content of the consumed permits (SPEC §2.4): Governor granted, P3.3 allow, safe_qty > 0. */
  judgePermits(p: Extract<PermitWaitResult, { outcome: "ok" }>): ClaimedPosition | Stop {
    const metrics = this.metrics;
    const gov = decodeGovernorPermit(p.governorRaw);
    if (!gov.ok || !gov.value.granted) {
      metrics.governorBlock.inc({ reason: "governor_denied" });
      return {
        decision: "BLOCKED",
        reason: "governor_denied",
        detail: gov.ok ? "granted=false" : gov.error.message,
      };
    }
    const p33 = decodeP33Permit(p.p33Raw);
    if (!p33.ok) {
      metrics.p33PermitDeny.inc({ reason: "invalid_plan" });
      return {
        decision: "BLOCKED",
        reason: "p33_permit_denied",
        detail: `unreadable P3.3 permit: ${p33.error.message}`,
      };
    }
    if (!p33.value.allow) {
      const known = (P33_DENY_REASONS as readonly string[]).includes(p33.value.reason);
      metrics.p33PermitDeny.inc({ reason: known ? p33.value.reason : "other" });
      return {
        decision: "BLOCKED",
        reason: "p33_permit_denied",
        detail: `${p33.value.reason} ${JSON.stringify(p33.value.context)}`,
      };
    }
    metrics.p33PermitAllow.inc();
    return { positionAmt: p33.value.exchangePositionAmt, safeQty: p33.value.safeQty };
  }

  /** TESTNET bypass: no P3.3 permit, so the position comes from the exchange. */
  async bypassPosition(plan: ApplyPlan): Promise<ClaimedPosition | Stop> {
    const exchange = this.requireExchange();
    const amt = await positionFromExchange(exchange, plan.symbol);
    const fraction = isCloseAction(plan.action) ? CLOSE_FRACTIONS[plan.action] : "1";
    return { positionAmt: amt, safeQty: new Decimal(amt).abs().mul(fraction).toFixed() };
  }

  private requireExchange(): Exchange {
    if (this.exchange === null) throw new ApplyStateError("APPLY_NO_EXCHANGE", "no exchange in dry_run");
    return this.exchange;
  }

  async buildOrder(plan: ApplyPlan, pos: ClaimedPosition): Promise<OrderRequest | Stop> {
    const exchange = this.requireExchange();
    const amt = new Decimal(pos.positionAmt);
    const close = isCloseAction(plan.action);
    if (close && !new Decimal(pos.safeQty).gt(0)) {
      return { decision: "BLOCKED", reason: "invalid_safe_qty", detail: `safe_qty=${pos.safeQty}` };
    }
    if (amt.isZero()) {
      return { decision: "BLOCKED", reason: "invalid_safe_qty", detail: "exchange position is flat" };
    }
    const rules = await exchange.getSymbolRules(plan.symbol);
    if (rules === null) {
      return {
        decision: "ERROR",
        reason: "exchange_rejected",
        detail: `${plan.symbol} is not listed on ${exchange.venue}`,
      };
    }
    const side = amt.gt(0) ? "SELL" : "BUY";
    const hedge = (await this.getPositionMode()) === "hedge";
    const positionSide = hedge ? { positionSide: amt.gt(0) ? ("LONG" as const) : ("SHORT" as const) } : {};
    if (!close) {
      const stopPrice = roundToTick(plan.newSlProposed ?? 0, rules.tickSize);
      if (stopPrice === null)
        return { decision: "ERROR", reason: "missing_new_sl", detail: "stop price rounds to 0" };
      return {
        symbol: plan.symbol,
        side,
        type: "STOP_MARKET",
        closePosition: true,
        stopPrice,
        clientOrderId: clientOrderIdFor(plan.planId, "stop"),
        ...positionSide,
      };
    }
    const rounded = roundOrderQuantity(pos.safeQty, rules, { reduceOnly: true });
    if (!rounded.ok) {
      const reason = rounded.reason === "qty_below_min" ? "qty_below_min" : "invalid_safe_qty";
      return {
        decision: "BLOCKED",
        reason,
        detail: `${rounded.reason}: safe_qty=${pos.safeQty} step=${rules.stepSize} min=${rules.minQty}`,
      };
    }
    return {
      symbol: plan.symbol,
      side,
      type: "MARKET",
      quantity: rounded.qty,
      clientOrderId: clientOrderIdFor(plan.planId),
      ...(hedge ? positionSide : { reduceOnly: true }),
    };
  }

  private async getPositionMode(): Promise<PositionMode> {
    const cached = this.positionMode;
    if (cached !== null && Date.now() - cached.at < POSITION_MODE_TTL_MS) return cached.mode;
    try {
      const mode = await this.requireExchange().getPositionMode();
      this.positionMode = { mode, at: Date.now() };
      return mode;
    } catch (err) {
      this.log.warn({ err }, "position mode unavailable, assuming one-way");
      return cached?.mode ?? "one_way";
    }
  }
}
