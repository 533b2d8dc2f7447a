import {
  type ApplyMode,
  type ApplyPlan,
  CLOSE_FRACTIONS,
  contextOfJson,
  decodeGovernorPermit,
  decodeP33Permit,
  type ExchangeVenue,
  isCloseAction,
  keys,
  P33_DENY_REASONS,
  P33_REASON_KEY,
  type P33PermitAllow,
  type ReasonContext,
} from "@quantum/contracts";
import {
  clientOrderIdFor,
  type Exchange,
  floorToStep,
  type OrderRequest,
  type OrderSide,
  type PositionMode,
  roundOrderQuantity,
  type SymbolRules,
} from "@quantum/exchange";
import type { ApplyMetrics } from "@quantum/metrics";
import type { LastFillMarks } from "@quantum/permits";
import type { Logger } from "@quantum/runtime";
import { Decimal } from "decimal.js";
import type { Redis } from "ioredis";
import { ApplyStateError } from "../apply-state-error.js";
import { positionFromExchange, roundToTick } from "../positions.js";
import type { ConsumedPermits } from "./plan-claimer.js";
import { type Stop, stopWith } from "./stop.js";

/** What a claimed plan acts on. */
export interface ClaimedPosition {
  /** Signed decimal string (P3.3's exchange_position_amt, or the venue's on the TESTNET bypass). */
  readonly positionAmt: string;
  /** Decimal string (P3.3's safe_qty). */
  readonly safeQty: string;
  /** The leg the permit sized (hedge mode), BOTH in one-way mode; null when unknown (TESTNET bypass). */
  readonly positionSide: "BOTH" | "LONG" | "SHORT" | null;
}

/** The orders of a close: one per chunk of at most the symbol's maxQty, in chunk order. */
export interface CloseOrders {
  readonly side: OrderSide;
  /** Hedge leg (positionSide instead of reduceOnly), or null in one-way mode. */
  readonly positionSide: "LONG" | "SHORT" | null;
  readonly chunks: readonly string[];
}

const POSITION_MODE_TTL_MS = 60_000;

/**
 * Turns a claimed plan into its orders: judges the consumed permits (Governor granted, P3.3 allow from this
 * venue and sized after the symbol's last fill, safe_qty > 0), floors safe_qty to the symbol's step and splits
 * it into chunks of at most maxQty, picks the side opposite to the position (hedge: to the leg, with
 * positionSide instead of reduceOnly), and builds the protective stop of UPDATE_SL.
 */
export class OrderPlanner {
  private positionMode: { mode: PositionMode; at: number } | null = null;
  /** The position-mode request in flight: concurrent plans share it (it weighs 30 at the venue). */
  private positionModeAsk: Promise<PositionMode> | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly exchange: Exchange | null,
    private readonly venue: ExchangeVenue | null,
    private readonly mode: ApplyMode,
    private readonly metrics: ApplyMetrics,
    private readonly log: Logger,
  ) {}

  /** Content of the consumed permits; a Stop ends the claimed plan with nothing sent. */
  async judgePermits(plan: ApplyPlan, p: ConsumedPermits): Promise<ClaimedPosition | Stop> {
    const metrics = this.metrics;
    const gov = decodeGovernorPermit(p.governorRaw);
    if (!gov.ok || !gov.value.granted) {
      metrics.governorBlock.inc({ reason: "governor_denied" });
      return stopWith(
        "BLOCKED",
        "governor_denied",
        gov.ok ? { granted: false } : { unreadable_permit: gov.error.message },
      );
    }
    const p33 = decodeP33Permit(p.p33Raw);
    if (!p33.ok) {
      metrics.p33PermitDeny.inc({ reason: "invalid_plan" });
      return stopWith("BLOCKED", "p33_permit_denied", { unreadable_permit: p33.error.message });
    }
    if (!p33.value.allow) {
      const known = (P33_DENY_REASONS as readonly string[]).includes(p33.value.reason);
      metrics.p33PermitDeny.inc({ reason: known ? p33.value.reason : "other" });
      return stopWith("BLOCKED", "p33_permit_denied", {
        [P33_REASON_KEY]: p33.value.reason,
        ...contextOfJson(p33.value.context),
      });
    }
    const venue = this.checkVenue(p33.value);
    if (venue !== null) return venue;
    if (isCloseAction(plan.action)) {
      const stale = await this.checkFresh(plan.symbol, p33.value, p.lastFill);
      if (stale !== null) return stale;
    }
    metrics.p33PermitAllow.inc();
    return {
      positionAmt: p33.value.exchangePositionAmt,
      safeQty: p33.value.safeQty,
      positionSide: p33.value.positionSide,
    };
  }

  /** The permit must name this layer's venue; a permit without one is accepted only outside production. */
  private checkVenue(permit: P33PermitAllow): Stop | null {
    if (permit.venue === null && this.mode !== "production") return null;
    if (permit.venue === this.venue) return null;
    return stopWith("BLOCKED", "venue_mismatch", { permit_venue: permit.venue, venue: this.venue });
  }

  /**
   * A permit sized before the symbol's last fill is never spent: its basis is the earlier of its created_at
   * and its snapshot time; the last fill is this layer's cooldown key (epoch ms, written after each fill) or a
   * ledger result other than the one the permit read. Runs under the symbol lock, so no fill of this symbol
   * can happen between this check and the order. The marks come with the consume (read right after it, same
   * round trip); they are read here only when those reads failed.
   */
  private async checkFresh(
    symbol: string,
    permit: P33PermitAllow,
    marks: LastFillMarks | null,
  ): Promise<Stop | null> {
    const [lastExec, ledgerPlan] =
      marks !== null
        ? [marks.cooldownLastExecTs, marks.ledgerResultPlanId]
        : await Promise.all([
            this.redis.get(keys.cooldownLastExecTs(symbol)),
            this.redis.hget(keys.positionLedger(symbol), "last_result_plan_id"),
          ]);
    const basisMs = Math.min(permit.createdAt, permit.snapshotTs ?? permit.createdAt) * 1000;
    const lastFillMs = lastExec === null ? Number.NaN : Number(lastExec);
    if (Number.isFinite(lastFillMs) && lastFillMs > basisMs) {
      return this.stale({
        sized_at: new Date(basisMs).toISOString(),
        last_fill_at: new Date(lastFillMs).toISOString(),
      });
    }
    const named = permit.ledgerResultPlanId;
    if (named !== null && ledgerPlan !== null && ledgerPlan !== "" && ledgerPlan !== named) {
      return this.stale({ sized_from_result: named, ledger_result: ledgerPlan });
    }
    return null;
  }

  /** The plan is to be proposed again (a fresh permit sizes from the position after the fill). */
  private stale(context: ReasonContext): Stop {
    return stopWith("BLOCKED", "p33_permit_stale", { ...context, next: "re_propose" });
  }

  /** TESTNET bypass: no P3.3 permit, so the position comes from the exchange. */
  async bypassPosition(plan: ApplyPlan): Promise<ClaimedPosition> {
    const amt = await positionFromExchange(this.requireExchange(), plan.symbol);
    const fraction = isCloseAction(plan.action) ? CLOSE_FRACTIONS[plan.action] : "1";
    return { positionAmt: amt, safeQty: new Decimal(amt).abs().mul(fraction).toFixed(), positionSide: null };
  }

  private requireExchange(): Exchange {
    if (this.exchange === null) throw new ApplyStateError("APPLY_NO_EXCHANGE", "no exchange in dry_run");
    return this.exchange;
  }

  private async rules(symbol: string): Promise<SymbolRules | Stop> {
    const exchange = this.requireExchange();
    const rules = await exchange.getSymbolRules(symbol);
    if (rules !== null) return rules;
    return stopWith("ERROR", "exchange_rejected", { symbol, listed: false, venue: exchange.venue });
  }

  /** Side and leg of this plan's orders: opposite to the leg (hedge) or to the position (one-way). */
  private async direction(
    pos: ClaimedPosition,
  ): Promise<{ side: OrderSide; positionSide: "LONG" | "SHORT" | null }> {
    if (pos.positionSide === "LONG") return { side: "SELL", positionSide: "LONG" };
    if (pos.positionSide === "SHORT") return { side: "BUY", positionSide: "SHORT" };
    // BOTH (or a permit from a writer that does not name the leg): the venue's position mode decides.
    const long = new Decimal(pos.positionAmt).gt(0);
    const side = long ? "SELL" : "BUY";
    const hedge = (await this.getPositionMode()) === "hedge";
    return { side, positionSide: hedge ? (long ? "LONG" : "SHORT") : null };
  }

  /** The chunks of a close (at most maxQty each, every one on the step and at least minQty). */
  async buildClose(plan: ApplyPlan, pos: ClaimedPosition): Promise<CloseOrders | Stop> {
    if (!new Decimal(pos.safeQty).gt(0)) {
      return stopWith("BLOCKED", "invalid_safe_qty", { safe_qty: pos.safeQty });
    }
    if (new Decimal(pos.positionAmt).isZero())
      return stopWith("BLOCKED", "invalid_safe_qty", { exchange_position_amt: pos.positionAmt });
    const rules = await this.rules(plan.symbol);
    if ("reason" in rules) return rules;
    const chunks = splitIntoChunks(pos.safeQty, rules);
    if (!Array.isArray(chunks)) {
      const reason = chunks.reason === "qty_below_min" ? "qty_below_min" : "invalid_safe_qty";
      return stopWith("BLOCKED", reason, {
        split: chunks.reason,
        safe_qty: pos.safeQty,
        step: rules.stepSize,
        min: rules.minQty,
        max: rules.maxQty,
      });
    }
    return { ...(await this.direction(pos)), chunks };
  }

  /** The protective STOP_MARKET (closePosition) of an UPDATE_SL plan. */
  async buildStop(plan: ApplyPlan, pos: ClaimedPosition): Promise<OrderRequest | Stop> {
    if (new Decimal(pos.positionAmt).isZero())
      return stopWith("BLOCKED", "invalid_safe_qty", { exchange_position_amt: pos.positionAmt });
    const rules = await this.rules(plan.symbol);
    if ("reason" in rules) return rules;
    const stopPrice = roundToTick(plan.newSlProposed ?? 0, rules.tickSize);
    if (stopPrice === null) {
      return stopWith("ERROR", "missing_new_sl", {
        new_sl_proposed: plan.newSlProposed,
        tick: rules.tickSize,
        stop_price: "0",
      });
    }
    const { side, positionSide } = await this.direction(pos);
    return {
      symbol: plan.symbol,
      side,
      type: "STOP_MARKET",
      closePosition: true,
      stopPrice,
      clientOrderId: clientOrderIdFor(plan.planId, "stop"),
      ...(positionSide !== null ? { positionSide } : {}),
    };
  }

  private getPositionMode(): Promise<PositionMode> {
    const cached = this.positionMode;
    if (cached !== null && Date.now() - cached.at < POSITION_MODE_TTL_MS) return Promise.resolve(cached.mode);
    if (this.positionModeAsk === null) {
      this.positionModeAsk = this.askPositionMode(cached).finally(() => {
        this.positionModeAsk = null;
      });
    }
    return this.positionModeAsk;
  }

  private async askPositionMode(cached: { mode: PositionMode } | null): Promise<PositionMode> {
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

/** The request of chunk `index` of a close (deterministic: a restart derives the same client id). */
export function closeChunkRequest(
  planId: string,
  symbol: string,
  orders: CloseOrders,
  index: number,
): OrderRequest {
  const qty = orders.chunks[index];
  if (qty === undefined)
    throw new ApplyStateError("APPLY_RECORD_MALFORMED", `plan ${planId} has no chunk ${index}`);
  return {
    symbol,
    side: orders.side,
    type: "MARKET",
    quantity: qty,
    clientOrderId: clientOrderIdFor(planId, "close", index),
    ...(orders.positionSide !== null ? { positionSide: orders.positionSide } : { reduceOnly: true }),
  };
}

/**
 * Floor `qty` to the step and split it into chunks of at most maxQty (decimal arithmetic). When the last chunk
 * would fall below minQty, the last two are balanced. Every chunk passes roundOrderQuantity.
 */
export function splitIntoChunks(
  qty: string,
  rules: Pick<SymbolRules, "stepSize" | "minQty" | "maxQty" | "minNotional">,
): string[] | { reason: string } {
  const total = floorToStep(qty, rules.stepSize);
  const max = new Decimal(rules.maxQty);
  const parts: Decimal[] = [];
  if (!max.gt(0) || total.lte(max)) parts.push(total);
  else {
    let left = total;
    while (left.gt(max)) {
      parts.push(max);
      left = left.minus(max);
    }
    if (left.gt(0)) parts.push(left);
    const last = parts[parts.length - 1] as Decimal;
    if (parts.length >= 2 && last.lt(rules.minQty)) {
      const pair = (parts[parts.length - 2] as Decimal).plus(last);
      const first = floorToStep(pair.div(2), rules.stepSize);
      parts.splice(parts.length - 2, 2, first, pair.minus(first));
    }
  }
  const out: string[] = [];
  for (const part of parts) {
    const rounded = roundOrderQuantity(part, rules, { reduceOnly: true });
    if (!rounded.ok) return { reason: rounded.reason };
    out.push(rounded.qty);
  }
  return out;
}
