import {
  DEFAULT_STREAM_MAXLEN,
  errorText,
  keyPatterns,
  keys,
  streams,
  symbolFromKey,
} from "@quantum/contracts";
import { Decimal } from "decimal.js";
import type { Redis } from "ioredis";
import { placedOutcome } from "./binance-parse.js";
import { ExchangeConfigError } from "./errors/exchange-config-error.js";
import { ExchangeRequestError } from "./errors/exchange-request-error.js";
import { validateOrderRequest } from "./order-request.js";
import { orderFromHash, planPaperOrder } from "./paper-fill.js";
import { DEFAULT_PAPER_RULES } from "./paper-rules.js";
import {
  type CancelResult,
  type Exchange,
  type ExchangeObserver,
  type ExchangePosition,
  NOOP_OBSERVER,
  type ObservedOutcome,
  type OrderOutcome,
  type OrderQueryResult,
  type OrderRequest,
  observedOutcome,
  type PositionMode,
  type SymbolRules,
} from "./types.js";

export interface PaperExchangeOptions {
  redis: Redis;
  /** Rules added to (or replacing, by symbol) DEFAULT_PAPER_RULES. */
  rules?: readonly SymbolRules[];
  /** Approximate MAXLEN of quantum:paper:orders. Default DEFAULT_STREAM_MAXLEN. */
  streamMaxLen?: number;
  /** TTL of each quantum:paper:order:<id> hash. Default 7 days. */
  orderTtlSec?: number;
  observer?: ExchangeObserver;
}

const MAX_ATTEMPTS = 20;

/**
 * A paper venue on Redis: positions in quantum:paper:position:<SYMBOL>, orders by client id in
 * quantum:paper:order:<id>, fills on quantum:paper:orders. MARKET orders fill at the stored mark price
 * through one Lua script (compare-and-set on the position), so a client order id fills at most once even
 * when submitted concurrently from several processes. One-way position mode. Its client must have
 * EXCHANGE_SCRIPTS loaded (`loadScripts`, at startup).
 */
export class PaperExchange implements Exchange {
  readonly venue = "paper" as const;
  /** The fill script refuses a client id already stored (whatever its status); placeOrder returns that order. */
  readonly placesClientIdOnce = true;
  private readonly redis: Redis;
  private readonly rules = new Map<string, SymbolRules>();
  private readonly maxLen: number;
  private readonly orderTtlSec: number;
  private readonly observer: ExchangeObserver;

  constructor(opts: PaperExchangeOptions) {
    this.redis = opts.redis;
    for (const r of [...DEFAULT_PAPER_RULES, ...(opts.rules ?? [])]) this.rules.set(r.symbol, { ...r });
    this.maxLen = opts.streamMaxLen ?? DEFAULT_STREAM_MAXLEN;
    this.orderTtlSec = opts.orderTtlSec ?? 7 * 24 * 3600;
    if (
      !Number.isInteger(this.maxLen) ||
      this.maxLen <= 0 ||
      !Number.isInteger(this.orderTtlSec) ||
      this.orderTtlSec < 0
    ) {
      throw new ExchangeConfigError(
        "EXCHANGE_OPTION_INVALID",
        "streamMaxLen must be > 0 and orderTtlSec >= 0 (integers)",
      );
    }
    this.observer = opts.observer ?? NOOP_OBSERVER;
  }

  async getSymbolRules(symbol: string): Promise<SymbolRules | null> {
    const r = this.rules.get(symbol);
    return r === undefined ? null : { ...r };
  }

  async getPositionMode(): Promise<PositionMode> {
    return "one_way";
  }

  async serverTime(): Promise<number> {
    try {
      const [sec, usec] = await this.redis.time();
      return Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    } catch (err) {
      throw new ExchangeRequestError("server_time", { kind: "notSent", detail: `redis: ${errorText(err)}` });
    }
  }

  /** Every quantum:paper:position:* hash, in one SCAN pass and one pipeline. */
  async getPositions(): Promise<ExchangePosition[]> {
    const t0 = performance.now();
    try {
      const found = new Set<string>();
      let cursor = "0";
      do {
        const [next, batch] = await this.redis.scan(cursor, "MATCH", keyPatterns.paperPosition, "COUNT", 500);
        for (const k of batch) found.add(k);
        cursor = next;
      } while (cursor !== "0");
      const keyList = [...found].sort();
      const pipe = this.redis.pipeline();
      for (const k of keyList) pipe.hmget(k, "position_amt", "entry_price", "mark_price", "leverage");
      const rows = keyList.length > 0 ? ((await pipe.exec()) ?? []) : [];
      const out: ExchangePosition[] = [];
      keyList.forEach((key, i) => {
        const symbol = symbolFromKey(key, keyPatterns.paperPosition);
        const row = rows[i];
        if (symbol === null || row === undefined || row[0] !== null) return;
        const [amt, entry, mark, leverage] = (row[1] as (string | null)[]).map((v) => v ?? "");
        const a = new Decimal(amt || "0");
        const m = new Decimal(mark || "0");
        const e = new Decimal(entry || "0");
        out.push({
          symbol,
          positionAmt: a.toFixed(),
          entryPrice: e.toFixed(),
          markPrice: m.toFixed(),
          unrealizedPnl: a.isZero() ? "0" : m.minus(e).mul(a).toFixed(),
          leverage: leverage || "1",
          positionSide: "BOTH",
        });
      });
      this.report("positions", "ok", t0);
      return out;
    } catch (err) {
      this.report("positions", "not_sent", t0);
      throw new ExchangeRequestError("positions", { kind: "notSent", detail: `redis: ${errorText(err)}` });
    }
  }

  async placeOrder(order: OrderRequest): Promise<OrderOutcome> {
    validateOrderRequest(order);
    const t0 = performance.now();
    const outcome = await this.place(order);
    this.report("new_order", observedOutcome(outcome.kind), t0);
    return outcome;
  }

  private async place(order: OrderRequest): Promise<OrderOutcome> {
    const rules = this.rules.get(order.symbol);
    if (rules === undefined) return { kind: "rejected", code: -1121, msg: "Invalid symbol." };
    const orderKey = keys.paperOrder(order.clientOrderId);
    const positionKey = keys.paperPosition(order.symbol);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let amtRaw: string | null;
      let markRaw: string | null;
      let entryRaw: string | null;
      try {
        // One round trip; the fill script re-checks both (id taken → 2, position moved → 3).
        const [existing, position] = await Promise.all([
          this.redis.hgetall(orderKey),
          this.redis.hmget(positionKey, "position_amt", "mark_price", "entry_price"),
        ]);
        if (Object.keys(existing).length > 0) return placedOutcome(orderFromHash(existing));
        [amtRaw = null, markRaw = null, entryRaw = null] = position;
      } catch (err) {
        return { kind: "notSent", detail: `redis: ${errorText(err)}` };
      }
      const plan = planPaperOrder(order, rules, amtRaw, markRaw, entryRaw);
      if (!plan.ok) return plan.outcome;
      const nowMs = String(Date.now());
      const orderFields = [
        ["client_order_id", order.clientOrderId],
        ["symbol", order.symbol],
        ["side", order.side],
        ["type", order.type],
        ["status", plan.status],
        ["orig_qty", order.quantity ?? "0"],
        ["executed_qty", plan.executedQty],
        ["avg_price", plan.avgPrice],
        ["reduce_only", String(order.reduceOnly === true)],
        ["close_position", String(order.closePosition === true)],
        ["position_side", "BOTH"],
        ["stop_price", order.stopPrice ?? "0"],
        ["created_at_ms", nowMs],
        ["updated_at_ms", nowMs],
      ];
      const streamFields = plan.fill
        ? [
            ["client_order_id", order.clientOrderId],
            ["symbol", order.symbol],
            ["side", order.side],
            ["type", order.type],
            ["qty", plan.executedQty],
            ["price", plan.avgPrice],
            ["reduce_only", String(order.reduceOnly === true)],
            ["position_amt_before", amtRaw ?? "0"],
            ["position_amt_after", plan.newAmt],
            ["ts_ms", nowMs],
          ]
        : [];
      let res: [number, number];
      try {
        res = await this.redis.quantumPlacePaperOrder(
          orderKey,
          positionKey,
          keys.paperOrderSeq,
          streams.paperOrders,
          amtRaw ?? "",
          markRaw ?? "",
          plan.fill ? "1" : "0",
          plan.newAmt,
          plan.newEntry,
          String(this.maxLen),
          String(this.orderTtlSec),
          String(orderFields.length),
          ...orderFields.flat(),
          ...streamFields.flat(),
        );
      } catch (err) {
        return { kind: "unknown", detail: `redis: ${errorText(err)}` };
      }
      if (res[0] === 1) {
        return {
          kind: plan.fill ? "filled" : "accepted",
          orderId: String(res[1]),
          clientOrderId: order.clientOrderId,
          status: plan.status,
          executedQty: plan.executedQty,
          avgPrice: plan.avgPrice,
        };
      }
      // 2: the id was taken meanwhile (next round returns that order); 3: the position moved (re-plan).
    }
    return { kind: "notSent", detail: "paper: position kept changing, order not placed" };
  }

  async getOrder(symbol: string, clientOrderId: string): Promise<OrderQueryResult> {
    const t0 = performance.now();
    try {
      const h = await this.redis.hgetall(keys.paperOrder(clientOrderId));
      this.report("query_order", "ok", t0);
      if (Object.keys(h).length === 0 || h.symbol !== symbol) return { kind: "notFound" };
      return { kind: "found", order: orderFromHash(h) };
    } catch (err) {
      this.report("query_order", "not_sent", t0);
      return { kind: "notSent", detail: `redis: ${errorText(err)}` };
    }
  }

  async cancelOrder(symbol: string, clientOrderId: string): Promise<CancelResult> {
    const t0 = performance.now();
    const orderKey = keys.paperOrder(clientOrderId);
    try {
      const owner = await this.redis.hget(orderKey, "symbol");
      if (owner !== symbol) {
        this.report("cancel_order", "ok", t0);
        return { kind: "notOpen" };
      }
      const [code, value] = await this.redis.quantumCancelPaperOrder(orderKey, String(Date.now()));
      this.report("cancel_order", "ok", t0);
      return code === 1 ? { kind: "canceled", orderId: String(value), clientOrderId } : { kind: "notOpen" };
    } catch (err) {
      this.report("cancel_order", "unknown", t0);
      return { kind: "unknown", detail: `redis: ${errorText(err)}` };
    }
  }

  private report(endpoint: string, outcome: ObservedOutcome, t0: number): void {
    this.observer.request(endpoint, outcome, (performance.now() - t0) / 1000);
  }
}

/** Demo/test helper: write a paper position (entry defaults to the mark, or 0 when flat). */
export async function seedPaperPosition(
  redis: Redis,
  symbol: string,
  positionAmt: string,
  markPrice: string,
  entryPrice?: string,
): Promise<void> {
  const entry = entryPrice ?? (new Decimal(positionAmt).isZero() ? "0" : markPrice);
  await redis.hset(keys.paperPosition(symbol), {
    position_amt: positionAmt,
    entry_price: entry,
    mark_price: markPrice,
  });
}

/** Demo/test helper: move the paper mark price of a symbol. */
export async function setPaperMarkPrice(redis: Redis, symbol: string, markPrice: string): Promise<void> {
  await redis.hset(keys.paperPosition(symbol), "mark_price", markPrice);
}
