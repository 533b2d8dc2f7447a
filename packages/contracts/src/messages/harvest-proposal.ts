import { type DecodeResult, decodeFail, type FieldMap, isPlainRecord } from "../codec.js";
import { DecodeError } from "../decode-error.js";
import { errorText } from "../error-text.js";
import { defineHashCodec } from "../hash-codec.js";
import { HEDGE_LEGS, type HedgeLeg } from "../reasons.js";
import { fields } from "../wire.js";

/**
 * A harvest proposal, from the hash `quantum:harvest:proposal:<SYMBOL>` or an entry of
 * `quantum:stream:harvest.proposal`. `action` is any string: unknown actions decode and are turned into
 * ERROR `unknown_action` by the Apply Layer. `k_*` and `R_net` read 0 when absent or empty.
 */
export interface HarvestProposal {
  readonly symbol: string;
  /** `harvest_action`, or `action` when `calibrated=1`. */
  readonly action: string;
  readonly calibrated: boolean;
  readonly killScore: number;
  readonly kRegimeFlip: number;
  readonly kSigmaSpike: number;
  readonly kTsDrop: number;
  readonly kAgePenalty: number;
  /** Absent, empty or `None` → null. */
  readonly newSlProposed: number | null;
  readonly rNet: number;
  /** Epoch seconds of the strategy's last update; null when absent. */
  readonly lastUpdateEpoch: number | null;
  readonly computedAtUtc: string;
  readonly reasonCodes: readonly string[];
  /** The leg to close in hedge mode (`position_side`); absent in one-way mode. Not part of the plan_id. */
  readonly positionSide?: HedgeLeg;
}

const codec = defineHashCodec<HarvestProposal>({
  symbol: { wire: "symbol", codec: fields.symbol() },
  action: { wire: "harvest_action", codec: fields.str(64) },
  calibrated: { wire: "calibrated", codec: fields.flag("1") },
  killScore: { wire: "kill_score", codec: fields.float() },
  kRegimeFlip: { wire: "k_regime_flip", codec: fields.floatOr(0) },
  kSigmaSpike: { wire: "k_sigma_spike", codec: fields.floatOr(0) },
  kTsDrop: { wire: "k_ts_drop", codec: fields.floatOr(0) },
  kAgePenalty: { wire: "k_age_penalty", codec: fields.floatOr(0) },
  newSlProposed: { wire: "new_sl_proposed", codec: fields.nullableFloat() },
  rNet: { wire: "R_net", codec: fields.floatOr(0) },
  lastUpdateEpoch: { wire: "last_update_epoch", codec: fields.nullableFloat(0) },
  computedAtUtc: { wire: "computed_at_utc", codec: fields.str(64) },
  reasonCodes: { wire: "reason_codes", codec: fields.commaList() },
  positionSide: { wire: "position_side", codec: fields.optOneOf(HEDGE_LEGS) },
});

/** Wire field name of each HarvestProposal property (`action` is read instead of `harvest_action` when calibrated). */
export const harvestProposalFields = codec.wireNames;

const CALIBRATED_TRUE = new Set(["1", "true", "True"]);

function present(v: unknown): boolean {
  return v !== undefined && v !== "";
}

/** Which field carries the action: `action` when `calibrated=1`, else `harvest_action`; the other as fallback. */
function actionField(input: Readonly<Record<string, unknown>>): "action" | "harvest_action" {
  const calibrated = typeof input.calibrated === "string" && CALIBRATED_TRUE.has(input.calibrated);
  const [first, second] = calibrated
    ? (["action", "harvest_action"] as const)
    : (["harvest_action", "action"] as const);
  return present(input[first]) || !present(input[second]) ? first : second;
}

/**
 * Decode a proposal. On the hash path pass the symbol taken from the key (it wins over any `symbol` field);
 * on the stream path the entry's `symbol` field is used. Never throws.
 */
export function decodeHarvestProposal(input: unknown, symbolFromKey?: string): DecodeResult<HarvestProposal> {
  try {
    if (!isPlainRecord(input)) return decodeFail("$", "expected a field map");
    const source = actionField(input);
    const normalized: Record<string, unknown> = { ...input, harvest_action: input[source] };
    if (symbolFromKey !== undefined) normalized.symbol = symbolFromKey;
    const result = codec.decode(normalized);
    if (!result.ok && result.error.field === "harvest_action" && source === "action") {
      return { ok: false, error: new DecodeError("action", result.error.problem) };
    }
    return result;
  } catch (err) {
    return decodeFail("$", `decoder failure: ${errorText(err)}`);
  }
}

/** Encode a proposal (stream entry or hash fields): `harvest_action`, plus `action` and `calibrated=1` when calibrated. */
export function encodeHarvestProposal(p: HarvestProposal): FieldMap {
  const out = codec.encode(p);
  if (p.calibrated) out.action = p.action;
  return out;
}
