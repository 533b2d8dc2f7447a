import type { ApplyReason, Decision, ExecutedStatus, OrderSide } from "@quantum/contracts";
import type { Exchange, OrderInfo, OrderRequest } from "@quantum/exchange";
import type { ApplyMetrics } from "@quantum/metrics";
import type { Logger } from "@quantum/runtime";
import { Decimal } from "decimal.js";
import { sleep } from "./locks.js";
import type { ResultOrder } from "./results.js";

/** How one order attempt of a plan ended. */
export type OrderEnd =
  /** The order exists at the venue: a MARKET close filled (fully or partly) or a stop was placed. */
  | { kind: "filled"; order: ResultOrder; status: string }
  /** Nothing was executed; the plan's result carries this decision and reason. */
  | { kind: "notFilled"; decision: Decision; reason: ApplyReason; detail: string; status: ExecutedStatus }
  /** Still unknown after the bounded look-ups: the record stays UNKNOWN and is resolved later. */
  | { kind: "unresolved"; detail: string };

/** Delays before each look-up of an order whose outcome is unknown. */
export const LIVE_RESOLVE_DELAYS_MS: readonly number[] = [300, 600, 1200, 2400];
/** After a restart the request that was in flight is long gone: look up at once, then twice more. */
export const RECOVERY_RESOLVE_DELAYS_MS: readonly number[] = [0, 250, 500];

const DEAD_STATUSES = new Set(["CANCELED", "EXPIRED", "REJECTED", "EXPIRED_IN_MATCH"]);

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Sends the one order of a plan and resolves unknown outcomes by client order id (SPEC §3.1). Never sends a
 * second order for a client id: only a `notSent` outcome (the request provably never left) is retried, once.
 */
export class OrderSender {
  constructor(
    private readonly exchange: Exchange,
    private readonly metrics: ApplyMetrics,
    private readonly log: Logger,
  ) {}

  /**
   * Place `req`; on an unknown outcome call `onUnknown` (record → UNKNOWN) and resolve by client id.
   * First looks the client id up at the venue: if Redis lost this plan's claim (a failover with
   * asynchronous replication, an AOF restore) after the order went out, the plan can be claimed again, and
   * Binance refuses a repeated client id only while the first order is open. An order that already exists is
   * adopted, never sent again; a lookup that fails sends nothing (fail closed).
   */
  async send(req: OrderRequest, onUnknown: (detail: string) => Promise<void>): Promise<OrderEnd> {
    const conditional = req.type === "STOP_MARKET";
    const existing = await this.lookupBeforeSend(req, conditional, onUnknown);
    if (existing !== null) return existing;
    for (let attempt = 0; ; attempt++) {
      const t0 = performance.now();
      let out: Awaited<ReturnType<Exchange["placeOrder"]>>;
      try {
        out = await this.exchange.placeOrder(req);
      } catch (err) {
        // InvalidOrderError: the request was refused before anything left this process.
        return notFilled("ERROR", "internal_error", `order not sent: ${errText(err)}`, "error");
      } finally {
        this.metrics.orderLatencySeconds.observe((performance.now() - t0) / 1000);
      }
      switch (out.kind) {
        case "filled":
          return filled(out, req.side, out.status);
        case "accepted":
          if (conditional) return filled(out, req.side, out.status);
          await onUnknown(`order accepted with status ${out.status}`);
          return this.resolve(req.symbol, req.clientOrderId, req.side, conditional, LIVE_RESOLVE_DELAYS_MS);
        case "notSent":
          if (attempt === 0) {
            this.log.warn(
              { clientOrderId: req.clientOrderId, detail: out.detail },
              "order not sent, retrying once",
            );
            await sleep(200);
            continue;
          }
          return notFilled("ERROR", "internal_error", `order not sent: ${out.detail}`, "error");
        case "rejected":
          return notFilled("ERROR", "exchange_rejected", `${out.code} ${out.msg}`, "rejected");
        case "rateLimited":
          return notFilled(
            "BLOCKED",
            "exchange_rate_limited",
            `rate limited, retry after ${out.retryAfterMs} ms${out.code !== undefined ? ` (code ${out.code})` : ""}`,
            "rejected",
          );
        case "fatal":
          this.log.error({ code: out.code, msg: out.msg }, "exchange refused the account configuration");
          return notFilled("ERROR", "exchange_rejected", `fatal ${out.code} ${out.msg}`, "error");
        case "unknown":
          this.log.warn({ clientOrderId: req.clientOrderId, detail: out.detail }, "order outcome unknown");
          await onUnknown(out.detail);
          return this.resolve(req.symbol, req.clientOrderId, req.side, conditional, LIVE_RESOLVE_DELAYS_MS);
      }
    }
  }

  /** null when no order with the plan's client id exists at the venue (so sending is safe). */
  private async lookupBeforeSend(
    req: OrderRequest,
    conditional: boolean,
    onUnknown: (detail: string) => Promise<void>,
  ): Promise<OrderEnd | null> {
    const q = await this.exchange.getOrder(req.symbol, req.clientOrderId, { conditional });
    switch (q.kind) {
      case "notFound":
        return null;
      case "found": {
        this.log.warn(
          { clientOrderId: req.clientOrderId, orderId: q.order.orderId, status: q.order.status },
          "an order with this plan's client id is already at the venue; adopting it, not sending again",
        );
        const end = classifyFound(q.order, req.side, conditional);
        if (end !== null) return end;
        await onUnknown(`order already at the venue with status ${q.order.status}`);
        return this.resolve(req.symbol, req.clientOrderId, req.side, conditional, LIVE_RESOLVE_DELAYS_MS);
      }
      case "rateLimited":
        return notFilled(
          "BLOCKED",
          "exchange_rate_limited",
          `lookup before send rate limited, retry after ${q.retryAfterMs} ms; nothing sent`,
          "rejected",
        );
      case "rejected":
      case "fatal":
        return notFilled(
          "ERROR",
          "internal_error",
          `lookup before send failed: ${q.code} ${q.msg}; nothing sent`,
          "error",
        );
      case "unknown":
      case "notSent":
        return notFilled(
          "ERROR",
          "internal_error",
          `lookup before send failed: ${q.detail}; nothing sent`,
          "error",
        );
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
      const q = await this.exchange.getOrder(symbol, clientOrderId, { conditional });
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
            `no order with client id ${clientOrderId} at the venue`,
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
  detail: string,
  status: ExecutedStatus,
): OrderEnd {
  return { kind: "notFilled", decision, reason, detail, status };
}

/** The end an order found by client id means; null while it is still working (NEW, PARTIALLY_FILLED). */
function classifyFound(o: OrderInfo, side: OrderSide, conditional: boolean): OrderEnd | null {
  if (conditional) return filled(o, side, o.status);
  if (o.status === "FILLED") return filled(o, side, o.status);
  if (DEAD_STATUSES.has(o.status)) {
    if (new Decimal(o.executedQty || "0").gt(0)) return filled(o, side, o.status);
    return notFilled(
      "ERROR",
      "exchange_unknown_resolved_not_filled",
      `order ${o.orderId} ended ${o.status} without a fill`,
      "unknown",
    );
  }
  return null;
}
