import { z } from "zod";
import { positional, shortestDigits } from "./float-digits.js";

/**
 * Decimal strings: how quantities, prices and position amounts travel (`"0.001"`, `"-1.5"`, `"0"`).
 * An optional leading minus, digits, an optional fraction; no exponent, no `+`, no NaN/Infinity, no spaces.
 * Validation only: arithmetic on them belongs to decimal.js in the packages that need it.
 */
export const DECIMAL_STRING_RE = /^-?\d+(\.\d+)?$/;

/** Longest numeric string any decoder accepts (a double written out in full is at most ~330 chars). */
export const MAX_NUMBER_CHARS = 400;

export function isDecimalString(s: unknown): s is string {
  return typeof s === "string" && s.length <= MAX_NUMBER_CHARS && DECIMAL_STRING_RE.test(s);
}

/** zod schema of a decimal string (output: the same string). */
export const decimalString = z
  .string({ error: (iss) => (iss.input === undefined ? "missing" : "expected a string") })
  .max(MAX_NUMBER_CHARS, `longer than ${MAX_NUMBER_CHARS} chars`)
  .regex(DECIMAL_STRING_RE, "not a decimal string");

/**
 * A finite number written as a decimal string without exponent, with the shortest digits that read back as
 * the same number (`1e-7` → `"0.0000001"`, `41000` → `"41000"`, `-0` → `"-0"`). Non-finite input gives
 * `"NaN"`/`"Infinity"`/`"-Infinity"`, which every decoder rejects.
 */
export function numberToDecimalString(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return positional(shortestDigits(n));
}
