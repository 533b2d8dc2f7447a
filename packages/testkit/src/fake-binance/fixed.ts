/**
 * Exact decimal arithmetic for the fake exchange on scaled bigints (12 decimals), so positions and
 * notionals never pass through floats. Only what the fake needs: parse, format, add/sub, mul, div, compare.
 */

export const SCALE_DECIMALS = 12;
const SCALE = 10n ** BigInt(SCALE_DECIMALS);
const DECIMAL_RE = /^-?\d+(\.\d+)?$/;

/** A decimal string as scaled units, or null when it is not a plain decimal or has more than 12 decimals. */
export function parseDec(s: string): bigint | null {
  const t = s.trim();
  if (!DECIMAL_RE.test(t)) return null;
  const negative = t.startsWith("-");
  const abs = negative ? t.slice(1) : t;
  const [int = "0", frac = ""] = abs.split(".");
  const fracTrimmed = frac.replace(/0+$/, "");
  if (fracTrimmed.length > SCALE_DECIMALS) return null;
  const units = BigInt(int) * SCALE + BigInt(fracTrimmed.padEnd(SCALE_DECIMALS, "0") || "0");
  return negative ? -units : units;
}

/** Parse or throw (for values the fake itself configured). */
export function dec(s: string): bigint {
  const v = parseDec(s);
  if (v === null) throw new Error(`fake-binance: not a decimal: ${s}`);
  return v;
}

/** Scaled units to a string with exactly `decimals` decimals (truncated toward zero). */
export function formatDec(v: bigint, decimals: number): string {
  const negative = v < 0n;
  const abs = negative ? -v : v;
  const int = abs / SCALE;
  const frac = (abs % SCALE).toString().padStart(SCALE_DECIMALS, "0").slice(0, decimals);
  const isZero = int === 0n && /^0*$/.test(frac);
  const sign = negative && !isZero ? "-" : "";
  return decimals > 0 ? `${sign}${int}.${frac}` : `${sign}${int}`;
}

/** Number of significant decimals of a step such as "0.0010" (3) or "1" (0). */
export function decimalsOf(step: string): number {
  const frac = step.split(".")[1] ?? "";
  return frac.replace(/0+$/, "").length;
}

export function mulDec(a: bigint, b: bigint): bigint {
  return (a * b) / SCALE;
}

export function divDec(a: bigint, b: bigint): bigint {
  return (a * SCALE) / b;
}

export function absDec(a: bigint): bigint {
  return a < 0n ? -a : a;
}

/** True when `v` is a whole multiple of `step` (step > 0). */
export function isMultipleOf(v: bigint, step: bigint): boolean {
  return step > 0n && v % step === 0n;
}
