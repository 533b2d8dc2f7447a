/**
 * The shortest decimal digits that round-trip a finite double (the digits both JavaScript's `toString` and
 * Python's `repr` print), and the position of the decimal point: `|n| = 0.d1d2… × 10^decpt`.
 */
export interface FloatDigits {
  readonly negative: boolean;
  readonly digits: string;
  readonly decpt: number;
}

export function shortestDigits(n: number): FloatDigits {
  const negative = n < 0 || Object.is(n, -0);
  if (n === 0) return { negative, digits: "0", decpt: 1 };
  // toExponential() without an argument yields the shortest round-trip digits: "d.ddde±x".
  const exp = Math.abs(n).toExponential();
  const ePos = exp.indexOf("e");
  const mantissa = exp.slice(0, ePos).replace(".", "");
  const e10 = Number(exp.slice(ePos + 1));
  return { negative, digits: mantissa, decpt: e10 + 1 };
}

/** Plain positional notation of the digits (no exponent, no trailing `.0`). */
export function positional(d: FloatDigits): string {
  const { digits, decpt } = d;
  let body: string;
  if (decpt <= 0) body = `0.${"0".repeat(-decpt)}${digits}`;
  else if (decpt >= digits.length) body = `${digits}${"0".repeat(decpt - digits.length)}`;
  else body = `${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
  return d.negative ? `-${body}` : body;
}
