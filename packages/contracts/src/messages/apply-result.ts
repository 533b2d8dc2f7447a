import type { DecodeResult, FieldMap } from "../codec.js";
import { defineHashCodec } from "../hash-codec.js";
import type { JsonValue } from "../json.js";
import {
  APPLY_MODES,
  APPLY_REASONS,
  type ApplyMode,
  type ApplyReason,
  DECISIONS,
  type Decision,
  ORDER_SIDES,
  type OrderSide,
} from "../reasons.js";
import { fields, MAX_DETAIL_CHARS } from "../wire.js";
import { APPLY_SOURCE, WIRE_VERSION } from "./apply-plan.js";

/** `order_id` / `client_order_id` of a close sent in chunks: comma lists in chunk order. */
const ORDER_ID_LIST_RE = /^[0-9A-Za-z_-]{1,64}(,[0-9A-Za-z_-]{1,64})*$/;
const CLIENT_ORDER_ID_LIST_RE = /^[.A-Z:/a-z0-9_-]{1,36}(,[.A-Z:/a-z0-9_-]{1,36})*$/;

/**
 * An entry of `quantum:stream:apply.result`, exactly one per plan_id. On the wire it also carries
 * `error` (= reason, `""` when reason is `none`), `source=apply_layer` and `v=1`, all written by the encoder.
 * This decoder is strict (for this system's own results); P3.5 normalizes other producers leniently.
 */
export interface ApplyResult {
  readonly planId: string;
  readonly symbol: string;
  readonly decision: Decision;
  /** `True`/`False` on the wire. */
  readonly executed: boolean;
  readonly wouldExecute: boolean;
  /** Bounded code, `none` on success. */
  readonly reason: ApplyReason;
  /** Free text (exchange codes, P3.3 deny reason), at most MAX_DETAIL_CHARS; may be empty. */
  readonly detail: string;
  readonly stepsResults: readonly JsonValue[];
  /** Epoch seconds. */
  readonly timestamp: number;
  /** Present when an order was sent. */
  readonly orderId?: string;
  readonly clientOrderId?: string;
  readonly side?: OrderSide;
  /** Decimal string. */
  readonly executedQty?: string;
  /** Decimal string. */
  readonly avgPrice?: string;
  /** Milliseconds spent waiting for permits. */
  readonly permitWaitMs?: number;
  readonly mode?: ApplyMode;
}

/** The wire `error` of a reason: the reason itself, or `""` when it is `none`. */
export function errorFieldOf(reason: string): string {
  return reason === "none" ? "" : reason;
}

const codec = defineHashCodec<ApplyResult>(
  {
    planId: { wire: "plan_id", codec: fields.planId() },
    symbol: { wire: "symbol", codec: fields.symbol() },
    decision: { wire: "decision", codec: fields.oneOf(DECISIONS) },
    executed: { wire: "executed", codec: fields.pyBool() },
    wouldExecute: { wire: "would_execute", codec: fields.pyBool() },
    reason: { wire: "reason", codec: fields.oneOf(APPLY_REASONS) },
    detail: { wire: "detail", codec: fields.text(MAX_DETAIL_CHARS) },
    stepsResults: { wire: "steps_results", codec: fields.jsonArray() },
    timestamp: { wire: "timestamp", codec: fields.epochSec() },
    // A close sent in chunks lists every order, in chunk order.
    orderId: {
      wire: "order_id",
      codec: fields.optStr(MAX_DETAIL_CHARS, ORDER_ID_LIST_RE, "not a comma list of order ids"),
    },
    clientOrderId: {
      wire: "client_order_id",
      codec: fields.optStr(MAX_DETAIL_CHARS, CLIENT_ORDER_ID_LIST_RE, "not a comma list of client order ids"),
    },
    side: { wire: "side", codec: fields.optOneOf(ORDER_SIDES) },
    executedQty: { wire: "executed_qty", codec: fields.optDecimal() },
    avgPrice: { wire: "avg_price", codec: fields.optDecimal() },
    permitWaitMs: { wire: "permit_wait_ms", codec: fields.optFloat(0) },
    mode: { wire: "mode", codec: fields.optOneOf(APPLY_MODES) },
  },
  {
    constants: { source: APPLY_SOURCE, v: WIRE_VERSION },
    derived: (r) => ({ error: errorFieldOf(r.reason) }),
    check: (r, raw) => {
      const expected = errorFieldOf(r.reason);
      if (raw.error !== expected) return ["error", `must equal reason (${JSON.stringify(expected)})`];
      return null;
    },
  },
);

/** Decode an apply.result entry strictly (`error` must match `reason`; `source`, `v` required). Never throws. */
export function decodeApplyResult(input: unknown): DecodeResult<ApplyResult> {
  return codec.decode(input);
}

/** Encode an apply.result entry; writes `error`, `source`, `v`. Throws EncodeError on an invalid result. */
export function encodeApplyResult(result: ApplyResult): FieldMap {
  return codec.encode(result);
}

/** Wire field name of each ApplyResult property. */
export const applyResultFields = codec.wireNames;
