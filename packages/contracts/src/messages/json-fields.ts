import { z } from "zod";
import { type DecodeResult, decodeFail, decodeWith, isPlainRecord, parseJson } from "../codec.js";
import { DECIMAL_STRING_RE, MAX_NUMBER_CHARS, numberToDecimalString } from "../decimal-string.js";
import type { JsonObject } from "../json.js";
import { MAX_JSON_CHARS, parseFloatField } from "../wire.js";

/**
 * Field schemas for JSON-valued keys (permits). Other (Python) writers put floats where this system writes
 * decimal strings, so numbers are read from either a JSON number or a numeric string.
 */
const missingOr = (what: string) => (iss: { input: unknown }) => (iss.input === undefined ? "missing" : what);

/** A quantity: a finite JSON number or a decimal string → decimal string. */
export const jsonDecimal = z
  .union([z.number(), z.string()], { error: missingOr("expected a decimal string or number") })
  .transform((v, ctx) => {
    if (typeof v === "number") {
      if (Number.isFinite(v)) return numberToDecimalString(v);
    } else if (v.length <= MAX_NUMBER_CHARS && DECIMAL_STRING_RE.test(v)) {
      return v;
    }
    ctx.addIssue({ code: "custom", message: "not a decimal number" });
    return z.NEVER;
  });

/** `schema`, or null when the key is absent or JSON null. Issues of `schema` are kept. */
export function orNull<T>(schema: z.ZodType<T>) {
  return z
    .unknown()
    .optional()
    .transform((v, ctx): T | null => {
      if (v === undefined || v === null) return null;
      const r = schema.safeParse(v);
      if (r.success) return r.data;
      for (const iss of r.error.issues) ctx.addIssue({ code: "custom", message: iss.message });
      return z.NEVER;
    });
}

/** A quantity or null (absent or JSON null). */
export const jsonNullableDecimal = orNull(jsonDecimal);

/** Epoch seconds: a JSON number or a numeric string, finite and >= 0. */
export const jsonEpochSec = z
  .union([z.number(), z.string()], { error: missingOr("expected epoch seconds") })
  .transform((v, ctx) => {
    const n = typeof v === "number" ? v : parseFloatField(v);
    if (typeof n === "number" && Number.isFinite(n) && n >= 0) return n;
    ctx.addIssue({ code: "custom", message: "not epoch seconds" });
    return z.NEVER;
  });

export const jsonBool = z.boolean({ error: missingOr("expected true|false") });

/** A JSON object (`context`); absent → {}. */
export const jsonObjectOrEmpty = z
  .unknown()
  .optional()
  .refine((v) => v === undefined || isPlainRecord(v), "expected a JSON object")
  .transform((v) => (v === undefined ? {} : (v as JsonObject)));

/** Parse a JSON document (at most MAX_JSON_CHARS) that must be an object, then apply the schema. Never throws. */
export function decodeJsonObject<T>(raw: unknown, schema: z.ZodType<T>): DecodeResult<T> {
  const obj = parseJsonObject(raw);
  return obj.ok ? decodeWith(schema, obj.value) : obj;
}

export function parseJsonObject(raw: unknown): DecodeResult<Record<string, unknown>> {
  if (typeof raw === "string" && raw.length > MAX_JSON_CHARS) {
    return decodeFail("$", `longer than ${MAX_JSON_CHARS} chars`);
  }
  const parsed = parseJson(raw);
  if (!parsed.ok) return parsed;
  if (!isPlainRecord(parsed.value)) return decodeFail("$", "expected a JSON object");
  return { ok: true, value: parsed.value };
}
