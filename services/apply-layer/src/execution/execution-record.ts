import {
  type ApplyReason,
  DECISIONS,
  type Decision,
  decodeExecRecord,
  decodeReasonContext,
  type ExecRecord,
  type ExecState,
  isApplyReason,
  keys,
  type OrderSide,
  type ReasonContext,
} from "@quantum/contracts";
import { transitionExec } from "@quantum/permits";
import { Decimal } from "decimal.js";
import type { Redis } from "ioredis";
import { ApplyStateError } from "../apply-state-error.js";
import { detailOf, type ResultOrder, type ResultSpec } from "../result-publisher.js";

/** States after which nothing more happens at the venue for a plan. */
export const FINAL_STATES: ReadonlySet<ExecState> = new Set(["FILLED", "REJECTED", "DONE"]);

/** Extra execution-record fields this service writes next to the codec's ones (read back by recovery). */
export const RECORD_EXTRA = {
  action: "action",
  permitWaitMs: "permit_wait_ms",
  decision: "decision",
  reason: "reason",
  executed: "executed",
  stopPrice: "stop_price",
  /** JSON of the result's context (its detail is rendered from it when the result is published again). */
  context: "context",
  /** The symbol-lock token of the instance working on the record (set at each submit gate). */
  holder: "holder",
  /** Close: the planned chunk quantities, comma list in chunk order. */
  chunks: "chunks",
  /** Close: JSON array of the fills of the chunks done so far (ChunkFill). */
  chunksDone: "chunks_done",
  /** Close: hedge leg of the orders (LONG|SHORT) or "" (one-way: reduceOnly). */
  positionSide: "position_side",
  /** UPDATE_SL: the protective stop this plan replaces (client id, order id, trigger, side, leg). */
  prevStopClientOrderId: "prev_stop_client_order_id",
  prevStopOrderId: "prev_stop_order_id",
  prevStopPrice: "prev_stop_price",
  prevStopSide: "prev_stop_side",
  prevStopPositionSide: "prev_stop_position_side",
} as const;

/** One filled chunk of a close. */
export interface ChunkFill {
  readonly orderId: string;
  readonly clientOrderId: string;
  readonly executedQty: string;
  readonly avgPrice: string;
}

export interface StoredRecord {
  readonly record: ExecRecord;
  readonly raw: Readonly<Record<string, string>>;
}

/** Read and decode an execution record; null when absent, throws on Redis errors. */
export async function readRecord(redis: Redis, planId: string): Promise<StoredRecord | null> {
  const raw = await redis.hgetall(keys.execRecord(planId));
  if (Object.keys(raw).length === 0) return null;
  const decoded = decodeExecRecord(raw);
  if (!decoded.ok)
    throw new ApplyStateError(
      "APPLY_RECORD_MALFORMED",
      `execution record ${planId} is malformed: ${decoded.error.message}`,
    );
  return { record: decoded.value, raw };
}

/** The chunk fills recorded so far (empty when none, or for a plan that is not a chunked close). */
export function chunksDone(raw: Readonly<Record<string, string>>): ChunkFill[] {
  const text = raw[RECORD_EXTRA.chunksDone];
  if (text === undefined || text === "") return [];
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed))
    throw new ApplyStateError("APPLY_RECORD_MALFORMED", "chunks_done is not a list");
  return parsed as ChunkFill[];
}

/** The planned chunk quantities of a close (empty for a plan that has none recorded). */
export function plannedChunks(raw: Readonly<Record<string, string>>): string[] {
  const text = raw[RECORD_EXTRA.chunks];
  return text === undefined || text === "" ? [] : text.split(",");
}

/**
 * The order fields of a result for a close done in chunks: ids as comma lists in chunk order, executed_qty the
 * sum, avg_price the quantity-weighted average (decimal arithmetic). Null when no chunk filled.
 */
export function sumChunks(fills: readonly ChunkFill[], side: OrderSide): ResultOrder | null {
  if (fills.length === 0) return null;
  if (fills.length === 1) {
    const [f] = fills as [ChunkFill];
    return {
      orderId: f.orderId,
      clientOrderId: f.clientOrderId,
      side,
      executedQty: f.executedQty,
      avgPrice: f.avgPrice,
    };
  }
  let qty = new Decimal(0);
  let notional = new Decimal(0);
  let qtyDp = 0;
  let priceDp = 0;
  for (const f of fills) {
    const q = new Decimal(f.executedQty);
    qty = qty.plus(q);
    notional = notional.plus(q.mul(f.avgPrice));
    qtyDp = Math.max(qtyDp, q.decimalPlaces());
    priceDp = Math.max(priceDp, new Decimal(f.avgPrice).decimalPlaces());
  }
  const avg = qty.isZero() ? new Decimal(0) : notional.div(qty);
  return {
    orderId: fills.map((f) => f.orderId).join(","),
    clientOrderId: fills.map((f) => f.clientOrderId).join(","),
    side,
    // Same number of decimals as the chunks (the venue's step); the average keeps 8 more than the prices.
    executedQty: qty.toFixed(qtyDp),
    avgPrice: avg.toDecimalPlaces(priceDp + 8, Decimal.ROUND_HALF_UP).toFixed(),
  };
}

/** The record fields of a result's context: the rendered detail (for operators) and the context itself. */
export function contextFields(spec: Pick<ResultSpec, "context">): Record<string, string> {
  return { detail: detailOf(spec), [RECORD_EXTRA.context]: JSON.stringify(spec.context ?? {}) };
}

/**
 * The context a record stores. A record without a readable one (written by markUnknown only, or by hand)
 * keeps its detail text as the context's `note`.
 */
function contextFromRecord(raw: Readonly<Record<string, string>>, detail: string | undefined): ReasonContext {
  const stored = decodeReasonContext(raw[RECORD_EXTRA.context]);
  if (stored.ok) return stored.value;
  return detail === undefined || detail === "" ? {} : { note: detail };
}

/** The result a final record stands for (recovery, or a consumer that found the plan already claimed). */
export function resultFromRecord(stored: StoredRecord): ResultSpec {
  const { record, raw } = stored;
  const waitMs = Number(raw[RECORD_EXTRA.permitWaitMs]);
  const permitWaitMs = Number.isFinite(waitMs) ? { permitWaitMs: waitMs } : {};
  const chunked = record.side !== undefined ? sumChunks(chunksDone(raw), record.side) : null;
  const single: ResultOrder | undefined =
    record.orderId !== undefined && record.clientOrderId !== undefined && record.side !== undefined
      ? {
          orderId: record.orderId,
          clientOrderId: record.clientOrderId,
          side: record.side,
          ...(record.state === "FILLED" && record.executedQty !== undefined
            ? { executedQty: record.executedQty }
            : {}),
          ...(record.state === "FILLED" && record.avgPrice !== undefined
            ? { avgPrice: record.avgPrice }
            : {}),
        }
      : undefined;
  const order = chunked ?? single;
  const rawDecision = raw[RECORD_EXTRA.decision] ?? "";
  const rawReason = raw[RECORD_EXTRA.reason] ?? "";
  const context = contextFromRecord(raw, record.detail);
  if (record.state === "FILLED" && rawDecision === "") {
    return {
      planId: record.planId,
      symbol: record.symbol,
      decision: "EXECUTE",
      reason: "none",
      context,
      executed: true,
      ...(order !== undefined ? { order } : {}),
      ...permitWaitMs,
    };
  }
  const decision: Decision = (DECISIONS as readonly string[]).includes(rawDecision)
    ? (rawDecision as Decision)
    : "ERROR";
  const reason: ApplyReason = isApplyReason(rawReason) ? rawReason : "internal_error";
  const executed = raw[RECORD_EXTRA.executed] === "1";
  return {
    planId: record.planId,
    symbol: record.symbol,
    decision,
    reason,
    context,
    executed,
    ...(order !== undefined && executed ? { order } : {}),
    ...permitWaitMs,
  };
}

/**
 * The record of a plan whose order outcome became unknown: SUBMITTING → UNKNOWN (resolved by lookup).
 * `exchange` is the venue client's account of the failed request.
 */
export async function markUnknown(redis: Redis, planId: string, exchange: string): Promise<void> {
  await transitionExec(redis, {
    planId,
    expected: "SUBMITTING",
    next: "UNKNOWN",
    fields: contextFields({ context: { order: "outcome_unknown", exchange } }),
  });
}

/** A chunk of a close filled: appended to chunks_done; the record stays SUBMITTING for the next chunk. */
export async function recordChunkFill(
  redis: Redis,
  planId: string,
  fills: readonly ChunkFill[],
): Promise<boolean> {
  const moved = await transitionExec(redis, {
    planId,
    expected: ["SUBMITTING", "UNKNOWN"],
    next: "SUBMITTING",
    fields: { [RECORD_EXTRA.chunksDone]: JSON.stringify(fills) },
  });
  return moved.outcome === "ok";
}

/** Fields noted on a CLAIMED record before any request (the previous stop of UPDATE_SL, the chunk plan). */
export async function noteOnClaimed(
  redis: Redis,
  planId: string,
  fields: Readonly<Record<string, string>>,
  expected: ExecState | readonly ExecState[] = "CLAIMED",
): Promise<boolean> {
  const moved = await transitionExec(redis, { planId, expected, next: "CLAIMED", fields });
  return moved.outcome === "ok";
}
