import type { DecodeResult, FieldMap } from "../codec.js";
import { defineHashCodec } from "../hash-codec.js";
import { EXEC_STATES, type ExecState, ORDER_SIDES, type OrderSide } from "../reasons.js";
import { CLIENT_ORDER_ID_RE, fields, MAX_DETAIL_CHARS } from "../wire.js";

/**
 * The execution record `quantum:apply:exec:<plan_id>`. The consume Lua script creates it
 * with `state=CLAIMED`, `plan_id`, `symbol`, `created_at`; the Apply Layer moves it
 * CLAIMED → SUBMITTING → FILLED|REJECTED|UNKNOWN (→ DONE) with HSET patches.
 */
export interface ExecRecord {
  readonly state: ExecState;
  readonly planId: string;
  readonly symbol: string;
  /** Epoch seconds. */
  readonly createdAt: number;
  /** Epoch seconds; absent until the first update after the claim. */
  readonly updatedAt?: number;
  readonly clientOrderId?: string;
  readonly side?: OrderSide;
  /** Decimal string: the quantity sent. */
  readonly qty?: string;
  readonly orderId?: string;
  readonly executedQty?: string;
  readonly avgPrice?: string;
  readonly detail?: string;
  /** The result of this plan is on apply.result (written `1`; absent = false). */
  readonly resultPublished: boolean;
}

const codec = defineHashCodec<ExecRecord>({
  state: { wire: "state", codec: fields.oneOf(EXEC_STATES) },
  planId: { wire: "plan_id", codec: fields.planId() },
  symbol: { wire: "symbol", codec: fields.symbol() },
  createdAt: { wire: "created_at", codec: fields.epochSec() },
  updatedAt: { wire: "updated_at", codec: fields.optEpochSec() },
  clientOrderId: {
    wire: "client_order_id",
    codec: fields.optStr(36, CLIENT_ORDER_ID_RE, "not a client order id"),
  },
  side: { wire: "side", codec: fields.optOneOf(ORDER_SIDES) },
  qty: { wire: "qty", codec: fields.optDecimal() },
  orderId: { wire: "order_id", codec: fields.optStr(64) },
  executedQty: { wire: "executed_qty", codec: fields.optDecimal() },
  avgPrice: { wire: "avg_price", codec: fields.optDecimal() },
  detail: { wire: "detail", codec: fields.optStr(MAX_DETAIL_CHARS) },
  resultPublished: { wire: "result_published", codec: fields.flag("1") },
});

/** Decode an execution record hash (HGETALL). Never throws. */
export function decodeExecRecord(input: unknown): DecodeResult<ExecRecord> {
  return codec.decode(input);
}

/** All fields of an execution record. Throws EncodeError on an invalid record. */
export function encodeExecRecord(r: ExecRecord): FieldMap {
  return codec.encode(r);
}

/** Only the given fields (for HSET on a state change), each validated. Throws EncodeError. */
export function encodeExecRecordPatch(patch: Partial<ExecRecord>): FieldMap {
  return codec.encodePatch(patch);
}

/** Wire field name of each ExecRecord property (`state`, `plan_id`, `created_at`, …). */
export const execRecordFields = codec.wireNames;
