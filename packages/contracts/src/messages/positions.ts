import type { DecodeResult, FieldMap } from "../codec.js";
import { defineHashCodec } from "../hash-codec.js";
import { PLAN_ID_RE } from "../plan-id.js";
import { ORDER_SIDES, type OrderSide, POSITION_SIDES, type PositionSide } from "../reasons.js";
import { fields } from "../wire.js";

// All amounts and prices are decimal strings; all times epoch seconds.

/**
 * `quantum:position:snapshot:<SYMBOL>`, written by P3.3 from the exchange. In hedge mode the account holds
 * a LONG and a SHORT leg per symbol: `positionAmt` (and `side`) stay the net of both, as other readers
 * expect, and `longAmt` / `shortAmt` carry each leg. One-way mode writes neither leg field.
 */
export interface PositionSnapshot {
  /** Signed; the net of both legs in hedge mode. */
  readonly positionAmt: string;
  readonly side: PositionSide;
  readonly entryPrice: string;
  readonly markPrice: string;
  readonly unrealizedPnl: string;
  readonly leverage: string;
  readonly tsEpoch: number;
  readonly source: string;
  /** Hedge mode only: the LONG leg (≥ 0). */
  readonly longAmt?: string;
  /** Hedge mode only: the SHORT leg, signed (≤ 0). */
  readonly shortAmt?: string;
}

const snapshotCodec = defineHashCodec<PositionSnapshot>({
  positionAmt: { wire: "position_amt", codec: fields.decimal() },
  side: { wire: "side", codec: fields.oneOf(POSITION_SIDES) },
  entryPrice: { wire: "entry_price", codec: fields.decimal() },
  markPrice: { wire: "mark_price", codec: fields.decimal() },
  unrealizedPnl: { wire: "unrealized_pnl", codec: fields.decimal() },
  leverage: { wire: "leverage", codec: fields.decimal() },
  tsEpoch: { wire: "ts_epoch", codec: fields.epochSec() },
  source: { wire: "source", codec: fields.str(64) },
  longAmt: { wire: "long_amt", codec: fields.optDecimal() },
  shortAmt: { wire: "short_amt", codec: fields.optDecimal() },
});

export function decodePositionSnapshot(input: unknown): DecodeResult<PositionSnapshot> {
  return snapshotCodec.decode(input);
}
export function encodePositionSnapshot(s: PositionSnapshot): FieldMap {
  return snapshotCodec.encode(s);
}
export const positionSnapshotFields = snapshotCodec.wireNames;

/** `quantum:position:ledger:<SYMBOL>`: what this system believes the position is. */
export interface PositionLedger {
  /** Signed. */
  readonly lastKnownAmt: string;
  readonly lastOrderId?: string;
  readonly lastResultPlanId?: string;
  readonly lastExecutedQty?: string;
  readonly lastSide?: OrderSide;
  readonly updatedAt: number;
  /** Who wrote it last (`p33`, `operator`, …). */
  readonly source: string;
}

const ledgerCodec = defineHashCodec<PositionLedger>({
  lastKnownAmt: { wire: "last_known_amt", codec: fields.decimal() },
  lastOrderId: { wire: "last_order_id", codec: fields.optStr(64) },
  lastResultPlanId: { wire: "last_result_plan_id", codec: fields.optStr(16, PLAN_ID_RE, "not a plan id") },
  lastExecutedQty: { wire: "last_executed_qty", codec: fields.optDecimal() },
  lastSide: { wire: "last_side", codec: fields.optOneOf(ORDER_SIDES) },
  updatedAt: { wire: "updated_at", codec: fields.epochSec() },
  source: { wire: "source", codec: fields.str(64) },
});

export function decodePositionLedger(input: unknown): DecodeResult<PositionLedger> {
  return ledgerCodec.decode(input);
}
export function encodePositionLedger(l: PositionLedger): FieldMap {
  return ledgerCodec.encode(l);
}
/** Only the given ledger fields (for HSET), each validated. Throws EncodeError. */
export function encodePositionLedgerPatch(patch: Partial<PositionLedger>): FieldMap {
  return ledgerCodec.encodePatch(patch);
}
export const positionLedgerFields = ledgerCodec.wireNames;

/** Operator view `quantum:position:<SYMBOL>`. */
export interface PositionView {
  readonly exchangeAmt: string;
  readonly ledgerAmount: string;
  /** Epoch seconds since exchange and ledger disagree; null (written `""`) when they agree. */
  readonly mismatchSince: number | null;
  readonly snapshotTs: number;
}

const viewCodec = defineHashCodec<PositionView>({
  exchangeAmt: { wire: "exchange_amt", codec: fields.decimal() },
  ledgerAmount: { wire: "ledger_amount", codec: fields.decimal() },
  mismatchSince: { wire: "mismatch_since", codec: fields.nullableFloat(0) },
  snapshotTs: { wire: "snapshot_ts", codec: fields.epochSec() },
});

export function decodePositionView(input: unknown): DecodeResult<PositionView> {
  return viewCodec.decode(input);
}
export function encodePositionView(v: PositionView): FieldMap {
  return viewCodec.encode(v);
}

/** Paper exchange state `quantum:paper:position:<SYMBOL>`. */
export interface PaperPosition {
  /** Signed. */
  readonly positionAmt: string;
  readonly entryPrice: string;
  readonly markPrice: string;
}

const paperCodec = defineHashCodec<PaperPosition>({
  positionAmt: { wire: "position_amt", codec: fields.decimal() },
  entryPrice: { wire: "entry_price", codec: fields.decimal() },
  markPrice: { wire: "mark_price", codec: fields.decimal() },
});

export function decodePaperPosition(input: unknown): DecodeResult<PaperPosition> {
  return paperCodec.decode(input);
}
export function encodePaperPosition(p: PaperPosition): FieldMap {
  return paperCodec.encode(p);
}
