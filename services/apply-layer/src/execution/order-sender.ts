import type { ApplyReason, Decision, ExecutedStatus, OrderSide, ReasonContext } from "@quantum/contracts";
import { errorText } from "@quantum/contracts";
import type { Exchange, OrderInfo, OrderRequest } from "@quantum/exchange";
import type { ApplyMetrics } from "@quantum/metrics";
import { type Logger, sleep } from "@quantum/runtime";
import { Decimal } from "decimal.js";
import type { ResultOrder } from "../result-publisher.js";
import { type Stop, stopWith } from "./stop.js";
import type { GateVerdict } from "./submit-gate.js";

/** How one order request of a plan ended. */
export type OrderEnd =
  /** The order exists at the venue: a MARKET close filled (fully or partly) or a stop was placed. */
  | { kind: "filled"; order: ResultOrder; status: string }
  /** Nothing was executed; the plan's result carries this decision and reason. */
  | ({ kind: "notFilled"; status: ExecutedStatus } & Stop)
  /** Still unknown after the bounded look-ups: the record stays UNKNOWN and is resolved later. */
  | { kind: "unresolved"; detail: string }
  /** The submit gate (or the step before it) stopped the request: nothing sent. */
  | { kind: "stopped"; stop: Stop }
  /** The gate found the lock lost or the record moved: nothing sent, the record is left to its holder. */
  | { kind: "abandoned"; why: string };

export interface SendSteps {
  /** After the lookup found no order with this client id, before the gate (the old stop's cancel). */
  beforeGate?: () => Promise<Stop | null>;
  /** The submit gate, the last step before each request (again before a retry). */
  gate: (attempt: number) => Promise<GateVerdict>;
  /** The outcome became unknown: the record moves to UNKNOWN before the lookups. */
  onUnknown: (detail: string) => Promise<void>;
}

export interface OrderSenderOptions {
  exchange: Exchange;
  metrics: ApplyMetrics;
  log: Logger;
  /** Longest total Retry-After wait of one request (APPLY_RATE_LIMIT_MAX_WAIT_MS). */
  rateLimitMaxWaitMs: number;
  /** Shutdown: cuts a rate-limit wait (nothing was sent; the plan ends exchange_rate_limited). */
  signal: AbortSignal;
}

/** Delays before each look-up of an order whose outcome is unknown. */
export const LIVE_RESOLVE_DELAYS_MS: readonly number[] = [300, 600, 1200, 2400];
/** After a restart the request that was in flight is long gone: look up at once, then twice more. */
export const RECOVERY_RESOLVE_DELAYS_MS: readonly number[] = [0, 250, 500];

const DEAD_STATUSES = new Set(["CANCELED", "EXPIRED", "REJECTED", "EXPIRED_IN_MATCH"]);

/**
 * Sends one order request of a plan, never a second one for its client id: first a lookup by client id (an
 * order already at the venue is adopted; skipped for a MARKET order on a venue that places a client id only
 * once, whose answer to the request is that order), then the step before the gate, then the submit gate, then the
 * request with nothing awaited in between. An outcome that is not proven "never sent" is resolved by lookup,
 * whatever the HTTP status. A rate limit waits Retry-After (bounded), passes the gate again, and retries.
 */
export class OrderSender {
  constructor(private readonly o: OrderSenderOptions) {}

  async place(req: OrderRequest, steps: SendSteps): Promise<OrderEnd> {
    const conditional = req.type === "STOP_MARKET";
    const deadline = Date.now() + this.o.rateLimitMaxWaitMs;
    let notSentRetried = false;
    let beforeGateDone = false;
    for (let attempt = 0; ; attempt++) {
      // Before every attempt, even after a "never sent": an order already at the venue is adopted. A venue
      // that never places a client id twice (paper) returns that order from the request itself instead.
      if (conditional || !this.o.exchange.placesClientIdOnce) {
        const existing = await this.lookupBeforeSend(req, conditional, steps, deadline);
        if (existing !== null) return existing;
      }
      if (!beforeGateDone && steps.beforeGate !== undefined) {
        const before = await steps.beforeGate();
        if (before !== null) return { kind: "stopped", stop: before };
      }
      beforeGateDone = true;
      const verdict = await steps.gate(attempt);
      if (verdict.kind === "stop") return { kind: "stopped", stop: verdict.stop };
      if (verdict.kind === "abandon") return { kind: "abandoned", why: verdict.why };
      const t0 = performance.now();
      let out: Awaited<ReturnType<Exchange["placeOrder"]>>;
      try {
        // No wait after the gate: when the local throttle has no room now, the request is not sent and comes
        // back rateLimited; the loop waits, then looks up and passes the gate again before the next attempt.
        out = await this.o.exchange.placeOrder(req, { maxWaitMs: 0 });
      } catch (err) {
        // Only local validation throws (InvalidOrderError): the request never left this process.
        return notFilled("ERROR", "internal_error", { sent: false, error: errorText(err) }, "error");
      } finally {
        this.o.metrics.orderLatencySeconds.observe((performance.now() - t0) / 1000);
      }
      switch (out.kind) {
        case "filled":
          return filled(out, req.side, out.status);
        case "accepted":
          if (conditional) return filled(out, req.side, out.status);
          await steps.onUnknown(`order accepted with status ${out.status}`);
          return this.resolve(req.symbol, req.clientOrderId, req.side, conditional, LIVE_RESOLVE_DELAYS_MS);
        case "notSent":
          if (!notSentRetried) {
            notSentRetried = true;
            this.o.log.warn(
              { clientOrderId: req.clientOrderId, detail: out.detail },
              "order not sent; looking it up, then retrying once",
            );
            await sleep(200);
            continue;
          }
          return notFilled("ERROR", "internal_error", { sent: false, error: out.detail }, "error");
        case "rejected":
          return notFilled("ERROR", "exchange_rejected", { code: out.code, msg: out.msg }, "rejected");
        case "rateLimited": {
          if (await this.waitRateLimit(out.retryAfterMs, deadline)) continue;
          return notFilled(
            "BLOCKED",
            "exchange_rate_limited",
            {
              retry_after_ms: out.retryAfterMs,
              ...(out.code !== undefined ? { code: out.code } : {}),
              sent: false,
            },
            "rejected",
          );
        }
        case "fatal":
          this.o.log.error({ code: out.code, msg: out.msg }, "exchange refused the account configuration");
          return notFilled(
            "ERROR",
            "exchange_rejected",
            { fatal: true, code: out.code, msg: out.msg },
            "error",
          );
        case "unknown":
          this.o.log.warn({ clientOrderId: req.clientOrderId, detail: out.detail }, "order outcome unknown");
          await steps.onUnknown(out.detail);
          return this.resolve(req.symbol, req.clientOrderId, req.side, conditional, LIVE_RESOLVE_DELAYS_MS);
      }
    }
  }

  /** Wait Retry-After when it ends before `deadline` (and shutdown does not cut it); false otherwise. */
  private async waitRateLimit(retryAfterMs: number, deadline: number): Promise<boolean> {
    if (Date.now() + retryAfterMs > deadline || this.o.signal.aborted) return false;
    this.o.log.warn({ retryAfterMs }, "rate limited after the permits were consumed; waiting Retry-After");
    await Promise.race([
      sleep(retryAfterMs),
      new Promise<void>((resolve) =>
        this.o.signal.addEventListener("abort", () => resolve(), { once: true }),
      ),
    ]);
    return !this.o.signal.aborted;
  }

  /**
   * null when no order with the request's client id exists at the venue (so sending is safe). If Redis lost
   * the plan's claim after the order went out (failover, restore), the plan can be claimed again, and Binance
   * refuses a repeated client id only while the first order is open: an order found is adopted, never sent
   * again; a lookup that fails sends nothing (fail closed).
   */
  private async lookupBeforeSend(
    req: OrderRequest,
    conditional: boolean,
    steps: SendSteps,
    deadline: number,
  ): Promise<OrderEnd | null> {
    for (;;) {
      const q = await this.o.exchange.getOrder(req.symbol, req.clientOrderId, { conditional });
      switch (q.kind) {
        case "notFound":
          return null;
        case "found": {
          this.o.log.warn(
            { clientOrderId: req.clientOrderId, orderId: q.order.orderId, status: q.order.status },
            "an order with this client id is already at the venue; adopting it, not sending again",
          );
          const end = classifyFound(q.order, req.side, conditional);
          if (end !== null) return end;
          await steps.onUnknown(`order already at the venue with status ${q.order.status}`);
          return this.resolve(req.symbol, req.clientOrderId, req.side, conditional, LIVE_RESOLVE_DELAYS_MS);
        }
        case "rateLimited":
          if (await this.waitRateLimit(q.retryAfterMs, deadline)) continue;
          return notFilled(
            "BLOCKED",
            "exchange_rate_limited",
            { lookup: "rate_limited", retry_after_ms: q.retryAfterMs, sent: false },
            "rejected",
          );
        case "rejected":
        case "fatal":
          return notFilled(
            "ERROR",
            "internal_error",
            { lookup: "failed", code: q.code, msg: q.msg, sent: false },
            "error",
          );
        case "unknown":
        case "notSent":
          return notFilled(
            "ERROR",
            "internal_error",
            { lookup: "failed", error: q.detail, sent: false },
            "error",
          );
      }
    }
  }

  /** Look the order up by client id until its outcome is known (bounded). */
  async resolve(
    symbol: string,
    clientOrderId: string,
    side: OrderSide,
    conditional: boolean,
    delaysMs: readonly number[],
  ): Promise<OrderEnd> {
    let last = "no answer";
    for (const [i, delay] of delaysMs.entries()) {
      if (delay > 0) await sleep(delay);
      const q = await this.o.exchange.getOrder(symbol, clientOrderId, { conditional });
      if (q.kind === "found") {
        const end = classifyFound(q.order, side, conditional);
        if (end !== null) return end;
        last = `order status ${q.order.status}`;
        continue;
      }
      if (q.kind === "notFound") {
        if (i === delaysMs.length - 1) {
          return notFilled(
            "ERROR",
            "exchange_unknown_resolved_not_filled",
            { client_order_id: clientOrderId, at_venue: false },
            "unknown",
          );
        }
        last = "not found yet";
        continue;
      }
      last = q.kind === "rejected" || q.kind === "fatal" ? `${q.code} ${q.msg}` : q.kind;
    }
    return { kind: "unresolved", detail: last };
  }
}

function filled(
  o: { orderId: string; clientOrderId: string; executedQty: string; avgPrice: string },
  side: OrderSide,
  status: string,
): OrderEnd {
  return {
    kind: "filled",
    status,
    order: {
      orderId: o.orderId,
      clientOrderId: o.clientOrderId,
      side,
      executedQty: o.executedQty,
      avgPrice: o.avgPrice,
    },
  };
}

function notFilled(
  decision: Decision,
  reason: ApplyReason,
  context: ReasonContext,
  status: ExecutedStatus,
): OrderEnd {
  return { kind: "notFilled", ...stopWith(decision, reason, context), status };
}

/** The end an order found by client id means; null while it is still working (NEW, PARTIALLY_FILLED). */
function classifyFound(o: OrderInfo, side: OrderSide, conditional: boolean): OrderEnd | null {
  if (conditional) {
    if (DEAD_STATUSES.has(o.status)) {
      return notFilled("ERROR", "exchange_rejected", { order_id: o.orderId, status: o.status }, "rejected");
    }
    return filled(o, side, o.status);
  }
  if (o.status === "FILLED") return filled(o, side, o.status);
  if (DEAD_STATUSES.has(o.status)) {
    if (new Decimal(o.executedQty || "0").gt(0)) return filled(o, side, o.status);
    return notFilled(
      "ERROR",
      "exchange_unknown_resolved_not_filled",
      { order_id: o.orderId, status: o.status, filled: false },
      "unknown",
    );
  }
  return null;
}
