import { createHash } from "node:crypto";
import { positional, shortestDigits } from "./float-digits.js";

/** A plan id: 16 lower-case hex chars. */
export const PLAN_ID_RE = /^[0-9a-f]{16}$/;

/**
 * Python's `repr(float)`: shortest round-trip digits, positional with a trailing `.0` when the decimal
 * exponent is in [-4, 16), else scientific with a signed two-digit (at least) exponent.
 * `0` → `0.0`, `41000` → `41000.0`, `1e-5` → `1e-05`, `1e16` → `1e+16`, `-0` → `-0.0`, NaN → `nan`.
 */
export function pyFloatRepr(n: number): string {
  if (Number.isNaN(n)) return "nan";
  if (n === Number.POSITIVE_INFINITY) return "inf";
  if (n === Number.NEGATIVE_INFINITY) return "-inf";
  const d = shortestDigits(n);
  if (d.decpt <= -4 || d.decpt > 16) {
    const exp = d.decpt - 1;
    const mantissa = d.digits.length > 1 ? `${d.digits[0]}.${d.digits.slice(1)}` : d.digits;
    const expText = String(Math.abs(exp)).padStart(2, "0");
    return `${d.negative ? "-" : ""}${mantissa}e${exp < 0 ? "-" : "+"}${expText}`;
  }
  const text = positional(d);
  return text.includes(".") ? text : `${text}.0`;
}

/**
 * Python's `"%.{digits}f" % n`: the exact binary value rounded half-to-even to `digits` decimals, in full
 * positional notation at any magnitude (JavaScript's `toFixed` rounds ties up and switches to exponent
 * notation at 1e21, so it is not used).
 */
export function pyFormatFixed(n: number, digits: number): string {
  if (!Number.isInteger(digits) || digits < 0 || digits > 100) {
    throw new RangeError(`digits must be an integer in [0, 100], got ${digits}`);
  }
  if (Number.isNaN(n)) return "nan";
  if (n === Number.POSITIVE_INFINITY) return "inf";
  if (n === Number.NEGATIVE_INFINITY) return "-inf";
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, n);
  const bits = view.getBigUint64(0);
  const negative = bits >> 63n === 1n;
  const expBits = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  // |n| = mantissa × 2^exp2, exactly.
  const mantissa = expBits === 0 ? fraction : fraction | (1n << 52n);
  const exp2 = expBits === 0 ? -1074 : expBits - 1075;
  const numerator = mantissa * 10n ** BigInt(digits);
  let scaled: bigint;
  if (exp2 >= 0) {
    scaled = numerator << BigInt(exp2);
  } else {
    const denominator = 1n << BigInt(-exp2);
    scaled = numerator / denominator;
    const twiceRemainder = 2n * (numerator - scaled * denominator);
    if (twiceRemainder > denominator || (twiceRemainder === denominator && scaled % 2n === 1n)) scaled += 1n;
  }
  const text = scaled.toString().padStart(digits + 1, "0");
  const intPart = text.slice(0, text.length - digits);
  const body = digits === 0 ? intPart : `${intPart}.${text.slice(text.length - digits)}`;
  return negative ? `-${body}` : body;
}

/** `kill_score` as the plan id renders it: Python `f"{kill_score:.6f}"`. */
export function formatKillScore(n: number): string {
  return pyFormatFixed(n, 6);
}

export interface PlanIdParts {
  readonly symbol: string;
  readonly action: string;
  readonly killScore: number;
  /** `null`/`undefined` renders as Python's `None`. */
  readonly newSlProposed?: number | null | undefined;
  readonly computedAtUtc: string;
}

/** The string that is hashed: `SYMBOL:action:kill_score(6 decimals):new_sl:computed_at_utc`. */
export function planIdInput(p: PlanIdParts): string {
  const newSl =
    p.newSlProposed === null || p.newSlProposed === undefined ? "None" : pyFloatRepr(p.newSlProposed);
  return `${p.symbol}:${p.action}:${formatKillScore(p.killScore)}:${newSl}:${p.computedAtUtc}`;
}

/** plan_id = first 16 hex chars of SHA-256 (UTF-8) of {@link planIdInput}. */
export function computePlanId(p: PlanIdParts): string {
  return createHash("sha256").update(planIdInput(p), "utf8").digest("hex").slice(0, 16);
}
