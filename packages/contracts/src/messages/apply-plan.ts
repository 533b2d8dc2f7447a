import type { DecodeResult, FieldMap } from "../codec.js";
import { defineHashCodec } from "../hash-codec.js";
import type { JsonValue } from "../json.js";
import { DECISIONS, type Decision, HEDGE_LEGS, type HedgeLeg } from "../reasons.js";
import { fields, REASON_CODE_RE } from "../wire.js";

/** An entry of `quantum:stream:apply.plan`. Written once per plan_id by the Apply Layer. */
export interface ApplyPlan {
  readonly planId: string;
  readonly symbol: string;
  /** The proposal's action; may be unknown (then decision ERROR `unknown_action`). */
  readonly action: string;
  readonly killScore: number;
  readonly kRegimeFlip: number;
  readonly kSigmaSpike: number;
  readonly kTsDrop: number;
  readonly kAgePenalty: number;
  /** Written as `""` when null. */
  readonly newSlProposed: number | null;
  readonly rNet: number;
  readonly decision: Decision;
  /** Bounded codes, written as a comma list. */
  readonly reasonCodes: readonly string[];
  /** JSON list of planned steps. */
  readonly steps: readonly JsonValue[];
  /** Decimal string, or null (written `""`) when not known at planning time. */
  readonly closeQty: string | null;
  /** Decimal string, or null (written `""`). */
  readonly price: string | null;
  /** Epoch seconds. */
  readonly timestamp: number;
  /** `reduceOnly=true` on closes; the field is left out when false. */
  readonly reduceOnly: boolean;
  /** The hedge-mode leg named by the proposal (`position_side`); absent in one-way mode. */
  readonly positionSide?: HedgeLeg;
}

export const APPLY_SOURCE = "apply_layer" as const;
export const WIRE_VERSION = "1" as const;

const codec = defineHashCodec<ApplyPlan>(
  {
    planId: { wire: "plan_id", codec: fields.planId() },
    symbol: { wire: "symbol", codec: fields.symbol() },
    action: { wire: "action", codec: fields.str(64) },
    killScore: { wire: "kill_score", codec: fields.float() },
    kRegimeFlip: { wire: "k_regime_flip", codec: fields.float() },
    kSigmaSpike: { wire: "k_sigma_spike", codec: fields.float() },
    kTsDrop: { wire: "k_ts_drop", codec: fields.float() },
    kAgePenalty: { wire: "k_age_penalty", codec: fields.float() },
    newSlProposed: { wire: "new_sl_proposed", codec: fields.nullableFloat() },
    rNet: { wire: "R_net", codec: fields.float() },
    decision: { wire: "decision", codec: fields.oneOf(DECISIONS) },
    reasonCodes: { wire: "reason_codes", codec: fields.commaList() },
    steps: { wire: "steps", codec: fields.jsonArray() },
    closeQty: { wire: "close_qty", codec: fields.nullableDecimal() },
    price: { wire: "price", codec: fields.nullableDecimal() },
    timestamp: { wire: "timestamp", codec: fields.epochSec() },
    reduceOnly: { wire: "reduceOnly", codec: fields.flag("true") },
    positionSide: { wire: "position_side", codec: fields.optOneOf(HEDGE_LEGS) },
  },
  {
    constants: { source: APPLY_SOURCE, v: WIRE_VERSION },
    // A plan without `source`/`v` (a writer that does not stamp them) is read; a different value is rejected.
    constantsRequired: false,
    check: (plan) => {
      const bad = plan.reasonCodes.find((c) => !REASON_CODE_RE.test(c));
      return bad === undefined ? null : ["reason_codes", `not a bounded code: ${bad.slice(0, 64)}`];
    },
  },
);

/** Decode an apply.plan entry. `source`/`v` may be absent but not different. Never throws. */
export function decodeApplyPlan(input: unknown): DecodeResult<ApplyPlan> {
  return codec.decode(input);
}

/** Encode an apply.plan entry with `source=apply_layer` and `v=1`. Throws EncodeError on an invalid plan. */
export function encodeApplyPlan(plan: ApplyPlan): FieldMap {
  return codec.encode(plan);
}

/** Wire field name of each ApplyPlan property. */
export const applyPlanFields = codec.wireNames;
