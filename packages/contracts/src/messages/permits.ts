import { z } from "zod";
import { type DecodeResult, decodeFail, decodeWith, isPlainRecord } from "../codec.js";
import { isDecimalString } from "../decimal-string.js";
import { EncodeError } from "../encode-error.js";
import type { JsonObject } from "../json.js";
import {
  EXCHANGE_VENUES,
  type ExchangeVenue,
  P33_ALLOW_REASON,
  PERMIT_POSITION_SIDES,
  type PermitPositionSide,
} from "../reasons.js";
import { MAX_JSON_CHARS, overCodePoints, parseFloatField, SYMBOL_RE } from "../wire.js";
import {
  decodeJsonObject,
  jsonBool,
  jsonDecimal,
  jsonEpochSec,
  jsonNullableDecimal,
  jsonObjectOrEmpty,
  orNull,
  parseJsonObject,
} from "./json-fields.js";

const symbol = z
  .string({ error: (iss) => (iss.input === undefined ? "missing" : "expected a string") })
  .regex(SYMBOL_RE, "not a symbol");
const shortText = (max: number) =>
  z
    .string({ error: (iss) => (iss.input === undefined ? "missing" : "expected a string") })
    .min(1, "empty")
    .max(max, `longer than ${max} chars`);

// ---------------------------------------------------------------- Governor permit `quantum:permit:<plan_id>`

/** The Governor's permit. The Apply Layer requires `granted === true`. */
export interface GovernorPermit {
  readonly granted: boolean;
  readonly symbol: string;
  /** `EXECUTE` from a granting Governor; kept as written. */
  readonly decision: string;
  /** Decimal strings (a JSON number from other writers is converted); null when absent. */
  readonly computedQty: string | null;
  readonly computedNotional: string | null;
  /** Epoch seconds. */
  readonly createdAt: number;
  readonly consumed: boolean;
}

const governorPermitSchema = z
  .object({
    granted: jsonBool,
    symbol,
    decision: shortText(32),
    computed_qty: jsonNullableDecimal,
    computed_notional: jsonNullableDecimal,
    created_at: jsonEpochSec,
    consumed: z.boolean({ error: "expected true|false" }).optional(),
  })
  .transform(
    (w): GovernorPermit => ({
      granted: w.granted,
      symbol: w.symbol,
      decision: w.decision,
      computedQty: w.computed_qty,
      computedNotional: w.computed_notional,
      createdAt: w.created_at,
      consumed: w.consumed ?? false,
    }),
  );

/** Decode the JSON value of a Governor permit key. Never throws. */
export function decodeGovernorPermit(raw: unknown): DecodeResult<GovernorPermit> {
  return decodeJsonObject(raw, governorPermitSchema);
}

function checked<T>(json: string, decode: (raw: string) => DecodeResult<T>): string {
  const back = decode(json);
  if (!back.ok) throw new EncodeError(back.error.field, back.error.problem);
  return json;
}

/** JSON of a Governor permit (the dev governor and `quantumctl permit grant` write it). */
export function encodeGovernorPermit(p: GovernorPermit): string {
  const json = JSON.stringify({
    granted: p.granted,
    symbol: p.symbol,
    decision: p.decision,
    computed_qty: p.computedQty,
    computed_notional: p.computedNotional,
    created_at: p.createdAt,
    consumed: p.consumed,
  });
  return checked(json, decodeGovernorPermit);
}

// ---------------------------------------------------------------- Governor block `quantum:governor:block:<plan_id>`

/** A Governor refusal: the Apply Layer stops waiting with `governor_blocked`. `reason` is the Governor's free text. */
export interface GovernorBlock {
  readonly reason: string;
  /** Epoch seconds; null when the Governor wrote none. */
  readonly timestamp: number | null;
  readonly symbol: string;
}

const governorBlockSchema = z
  .object({
    reason: z
      .string({ error: (iss) => (iss.input === undefined ? "missing" : "expected a string") })
      .max(1024),
    timestamp: orNull(jsonEpochSec),
    symbol: z.string({ error: (iss) => (iss.input === undefined ? "missing" : "expected a string") }).max(64),
  })
  .transform((w): GovernorBlock => ({ reason: w.reason, timestamp: w.timestamp, symbol: w.symbol }));

/** Decode the JSON value of a Governor block key. Never throws. */
export function decodeGovernorBlock(raw: unknown): DecodeResult<GovernorBlock> {
  return decodeJsonObject(raw, governorBlockSchema);
}

export function encodeGovernorBlock(b: GovernorBlock): string {
  return checked(
    JSON.stringify({ reason: b.reason, timestamp: b.timestamp, symbol: b.symbol }),
    decodeGovernorBlock,
  );
}

// ---------------------------------------------------------------- P3.3 permit `quantum:permit:p33:<plan_id>`

export interface P33PermitAllow {
  readonly allow: true;
  readonly symbol: string;
  /** Decimal string, already floored to the step. Written as both `safe_qty` and `safe_close_qty`. */
  readonly safeQty: string;
  /** Signed decimal string: the sized position (the net in one-way mode, the named leg in hedge mode). */
  readonly exchangePositionAmt: string;
  /** Signed decimal string, the ledger's net amount for the symbol; null when no ledger existed. */
  readonly ledgerAmt: string | null;
  /** Epoch seconds. */
  readonly createdAt: number;
  readonly reason: typeof P33_ALLOW_REASON;
  /** The venue whose position was read; null from other writers (accepted only outside production). */
  readonly venue: ExchangeVenue | null;
  /**
   * The position sized: BOTH (one-way mode) or the hedge leg LONG|SHORT whose amount `safeQty` and
   * `exchangePositionAmt` come from. Other writers → BOTH.
   */
  readonly positionSide: PermitPositionSide;
  /**
   * The basis the quantity was sized from: the ledger's `last_result_plan_id` when the permit was written
   * (null when the ledger had none) and the snapshot's `ts_epoch` (epoch seconds; null from other writers).
   * With `createdAt` it lets the Apply Layer refuse a permit sized before the symbol's last fill.
   */
  readonly ledgerResultPlanId: string | null;
  readonly snapshotTs: number | null;
}

export interface P33PermitDeny {
  readonly allow: false;
  readonly symbol: string;
  /** A P3.3 deny reason (P33_DENY_REASONS for this system's writer). */
  readonly reason: string;
  /** Structured context of the deny (`{age_seconds}`, `{exchange_amt, ledger_amt, diff, tolerance}`, …). */
  readonly context: JsonObject;
  readonly createdAt: number;
}

export type P33Permit = P33PermitAllow | P33PermitDeny;

/** Same decimal value written two ways (`0.010` vs `0.01`)? Textual, no arithmetic. */
function sameDecimal(a: string, b: string): boolean {
  const norm = (s: string) => {
    let t = s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
    t = t.replace(/^(-?)0+(?=\d)/, "$1");
    return t === "-0" ? "0" : t;
  };
  return norm(a) === norm(b);
}

const p33AllowSchema = z
  .object({
    symbol,
    safe_qty: orNull(jsonDecimal),
    safe_close_qty: orNull(jsonDecimal),
    exchange_position_amt: jsonDecimal,
    ledger_amt: jsonNullableDecimal,
    created_at: jsonEpochSec,
    venue: orNull(z.enum(EXCHANGE_VENUES, { error: `not one of ${EXCHANGE_VENUES.join("|")}` })),
    position_side: orNull(
      z.enum(PERMIT_POSITION_SIDES, { error: `not one of ${PERMIT_POSITION_SIDES.join("|")}` }),
    ),
    ledger_result_plan_id: orNull(shortText(64)),
    snapshot_ts: orNull(jsonEpochSec),
  })
  .superRefine((w, ctx) => {
    if (w.safe_qty == null && w.safe_close_qty == null) {
      ctx.addIssue({
        code: "custom",
        path: ["safe_qty"],
        message: "missing (neither safe_qty nor safe_close_qty)",
      });
    } else if (w.safe_qty != null && w.safe_close_qty != null && !sameDecimal(w.safe_qty, w.safe_close_qty)) {
      ctx.addIssue({ code: "custom", path: ["safe_close_qty"], message: "differs from safe_qty" });
    }
  })
  .transform(
    (w): P33PermitAllow => ({
      allow: true,
      symbol: w.symbol,
      safeQty: (w.safe_qty ?? w.safe_close_qty)!,
      exchangePositionAmt: w.exchange_position_amt,
      ledgerAmt: w.ledger_amt,
      createdAt: w.created_at,
      reason: P33_ALLOW_REASON,
      venue: w.venue,
      positionSide: w.position_side ?? "BOTH",
      ledgerResultPlanId: w.ledger_result_plan_id,
      snapshotTs: w.snapshot_ts,
    }),
  );

const p33DenySchema = z
  .object({
    symbol,
    reason: shortText(256),
    context: jsonObjectOrEmpty,
    created_at: jsonEpochSec,
  })
  .transform(
    (w): P33PermitDeny => ({
      allow: false,
      symbol: w.symbol,
      reason: w.reason,
      context: w.context,
      createdAt: w.created_at,
    }),
  );

/**
 * Decode a P3.3 permit. An allow is read from `safe_qty` or `safe_close_qty` (other writers write only one;
 * both present must agree); its `reason` text is not judged. Never throws.
 */
export function decodeP33Permit(raw: unknown): DecodeResult<P33Permit> {
  const obj = parseJsonObject(raw);
  if (!obj.ok) return obj;
  const allow = obj.value.allow;
  if (allow === true) return decodeWith<P33Permit>(p33AllowSchema, obj.value);
  if (allow === false) return decodeWith<P33Permit>(p33DenySchema, obj.value);
  return decodeFail("allow", allow === undefined ? "missing" : "expected true|false");
}

/** What JSON writes for a value: undefined, null and non-finite numbers all read back as absent or null. */
function nullOnWire(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === "number" && !Number.isFinite(v));
}

const decimalOnWire = (v: unknown) => (typeof v === "number" && Number.isFinite(v)) || isDecimalString(v);
const epochOnWire = (v: unknown) => {
  const n = typeof v === "number" ? v : typeof v === "string" ? parseFloatField(v) : Number.NaN;
  return typeof n === "number" && Number.isFinite(n) && n >= 0;
};
const textOnWire = (v: unknown, max: number) => typeof v === "string" && v !== "" && !overCodePoints(v, max);
const symbolOnWire = (v: unknown) => typeof v === "string" && SYMBOL_RE.test(v);
const oneOfOnWire = (v: unknown, values: readonly string[]) => typeof v === "string" && values.includes(v);

/**
 * The first field of a permit that its decoder would refuse once written as JSON, or null. Judged on the value
 * itself (no JSON round trip), with the decoder's rules; a property test keeps the two in agreement.
 */
function p33PermitProblem(p: P33Permit): readonly [string, string] | null {
  if (!symbolOnWire(p.symbol)) return ["symbol", "not a symbol"];
  if (!p.allow) {
    if (!textOnWire(p.reason, 256)) return ["reason", "not a short text"];
    if (p.context !== undefined && !isPlainRecord(p.context)) return ["context", "expected a JSON object"];
    return epochOnWire(p.createdAt) ? null : ["created_at", "not epoch seconds"];
  }
  if (!nullOnWire(p.safeQty) && !decimalOnWire(p.safeQty)) return ["safe_qty", "not a decimal number"];
  if (!decimalOnWire(p.exchangePositionAmt)) return ["exchange_position_amt", "not a decimal number"];
  if (!nullOnWire(p.ledgerAmt) && !decimalOnWire(p.ledgerAmt)) return ["ledger_amt", "not a decimal number"];
  if (!epochOnWire(p.createdAt)) return ["created_at", "not epoch seconds"];
  if (!nullOnWire(p.venue) && !oneOfOnWire(p.venue, EXCHANGE_VENUES))
    return ["venue", `not one of ${EXCHANGE_VENUES.join("|")}`];
  if (!nullOnWire(p.positionSide) && !oneOfOnWire(p.positionSide, PERMIT_POSITION_SIDES))
    return ["position_side", `not one of ${PERMIT_POSITION_SIDES.join("|")}`];
  if (!nullOnWire(p.ledgerResultPlanId) && !textOnWire(p.ledgerResultPlanId, 64))
    return ["ledger_result_plan_id", "not a short text"];
  if (!nullOnWire(p.snapshotTs) && !epochOnWire(p.snapshotTs)) return ["snapshot_ts", "not epoch seconds"];
  // an allow needs a quantity (safe_qty and safe_close_qty carry the same one)
  return nullOnWire(p.safeQty) ? ["safe_qty", "missing (neither safe_qty nor safe_close_qty)"] : null;
}

/** The JSON object a permit is written as, unchecked (`encodeP33Permit` is the writer; tests build on it). */
export function p33PermitWire(p: P33Permit): Record<string, unknown> {
  return p.allow
    ? {
        allow: true,
        symbol: p.symbol,
        safe_qty: p.safeQty,
        safe_close_qty: p.safeQty,
        exchange_position_amt: p.exchangePositionAmt,
        ledger_amt: p.ledgerAmt,
        created_at: p.createdAt,
        reason: P33_ALLOW_REASON,
        venue: p.venue,
        position_side: p.positionSide,
        ledger_result_plan_id: p.ledgerResultPlanId,
        snapshot_ts: p.snapshotTs,
      }
    : { allow: false, symbol: p.symbol, reason: p.reason, context: p.context, created_at: p.createdAt };
}

/**
 * JSON of a P3.3 permit. An allow always carries `safe_close_qty` = `safe_qty`. Throws EncodeError when
 * `decodeP33Permit` would refuse the result (checked on the value, without decoding the JSON again: P3.3
 * writes one per plan).
 */
export function encodeP33Permit(p: P33Permit): string {
  const json = JSON.stringify(p33PermitWire(p));
  if (json.length > MAX_JSON_CHARS) throw new EncodeError("$", `longer than ${MAX_JSON_CHARS} chars`);
  const problem = p33PermitProblem(p);
  if (problem !== null) throw new EncodeError(problem[0], problem[1]);
  return json;
}
