import { z } from "zod";
import { DECIMAL_STRING_RE, MAX_NUMBER_CHARS, numberToDecimalString } from "./decimal-string.js";
import type { JsonValue } from "./json.js";
import { PLAN_ID_RE } from "./plan-id.js";

/**
 * Field codecs: how one value travels as a Redis field (string) and back. `schema` reads the raw field
 * (a string, or `undefined` when the field is absent, or anything else on malformed input); `encode` writes
 * it (`undefined` = leave the field out).
 */
export interface FieldCodec<T> {
  readonly schema: z.ZodType<T>;
  encode(value: T): string | undefined;
}

/** Python's float literals as `str(float)` writes them, plus plain decimals (`"0.31"`, `"1e-05"`, `"41000.0"`). */
export const FLOAT_STRING_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
/** Binance symbols: upper-case ASCII letters, digits, `_`, and letters without case (CJK listings). */
export const SYMBOL_RE = /^[A-Z0-9_\p{Lo}]{1,40}$/u;
/** Deterministic client order id: at most 36 chars of `[.A-Z:/a-z0-9_-]`. */
export const CLIENT_ORDER_ID_RE = /^[.A-Z:/a-z0-9_-]{1,36}$/;
/** Bounded reason codes: lower-case words joined by `_`, `:` between a code and its qualifier. */
export const REASON_CODE_RE = /^[a-z0-9_:]{1,128}$/;
/** Longest free-text `detail` a decoder accepts; producers clamp with `clampDetail`. */
export const MAX_DETAIL_CHARS = 4096;
/** Longest JSON-valued field (`steps`, `steps_results`, `context`). */
export const MAX_JSON_CHARS = 65_536;

const notString = (iss: { input: unknown }) => (iss.input === undefined ? "missing" : "expected a string");
const rawString = () => z.string({ error: notString });
const rawOptional = () => z.string({ error: "expected a string" }).optional();

/** Parse a float field: finite, Python-style literal. Returns the number or an error message. */
export function parseFloatField(s: string): number | string {
  if (s.length > MAX_NUMBER_CHARS) return `longer than ${MAX_NUMBER_CHARS} chars`;
  if (!FLOAT_STRING_RE.test(s)) return "not a number";
  const n = Number(s);
  return Number.isFinite(n) ? n : "not a finite number";
}

function floatTransform(s: string, ctx: z.RefinementCtx, min?: number): number {
  const n = parseFloatField(s);
  if (typeof n === "string") {
    ctx.addIssue({ code: "custom", message: n });
    return z.NEVER;
  }
  if (min !== undefined && n < min) {
    ctx.addIssue({ code: "custom", message: `must be >= ${min}` });
    return z.NEVER;
  }
  return n;
}

/** Keep free text within `max` chars without splitting a surrogate pair. */
export function clampText(s: string, max: number): string {
  if (s.length <= max) return s;
  const cut = s.charCodeAt(max - 1);
  const end = cut >= 0xd800 && cut <= 0xdbff ? max - 1 : max;
  return s.slice(0, end);
}

/** Clamp a free-text detail to {@link MAX_DETAIL_CHARS}. */
export function clampDetail(s: string): string {
  return clampText(s, MAX_DETAIL_CHARS);
}

export const fields = {
  /** Required non-empty string, at most `max` chars, optionally matching `re`. */
  str(max: number, re?: RegExp, reMessage = "invalid format"): FieldCodec<string> {
    let s = rawString().min(1, "empty").max(max, `longer than ${max} chars`);
    if (re) s = s.regex(re, reMessage);
    return { schema: s, encode: (v) => v };
  },
  /** Optional string: absent or `""` decodes as undefined; undefined and `""` are not written. */
  optStr(max: number, re?: RegExp, reMessage = "invalid format"): FieldCodec<string | undefined> {
    const schema = rawOptional().transform((v, ctx) => {
      if (v === undefined || v === "") return undefined;
      if (v.length > max) ctx.addIssue({ code: "custom", message: `longer than ${max} chars` });
      else if (re && !re.test(v)) ctx.addIssue({ code: "custom", message: reMessage });
      else return v;
      return z.NEVER;
    });
    return { schema, encode: (v) => (v === "" ? undefined : v) };
  },
  /** Free text that may be empty (`detail`), at most `max` chars; absent decodes as `""`. */
  text(max: number): FieldCodec<string> {
    const schema = rawOptional()
      .refine((v) => v === undefined || v.length <= max, `longer than ${max} chars`)
      .transform((v) => v ?? "");
    return { schema, encode: (v) => v };
  },
  symbol(): FieldCodec<string> {
    return fields.str(40, SYMBOL_RE, "not a symbol");
  },
  planId(): FieldCodec<string> {
    return fields.str(16, PLAN_ID_RE, "not a plan id (16 hex chars)");
  },
  /** Required finite float (`min` optional). */
  float(min?: number): FieldCodec<number> {
    const schema = rawString().transform((s, ctx) => floatTransform(s, ctx, min));
    return { schema, encode: numberToDecimalString };
  },
  /** Float that reads `fallback` when absent or empty. */
  floatOr(fallback: number): FieldCodec<number> {
    const schema = rawOptional().transform((s, ctx) =>
      s === undefined || s === "" ? fallback : floatTransform(s, ctx),
    );
    return { schema, encode: numberToDecimalString };
  },
  /** Float or null: absent, `""`, `None` (Python) and `null` read as null; null is written as `""`. */
  nullableFloat(min?: number): FieldCodec<number | null> {
    const schema = rawOptional().transform((s, ctx) =>
      s === undefined || s === "" || s === "None" || s === "null" ? null : floatTransform(s, ctx, min),
    );
    return { schema, encode: (v) => (v === null ? "" : numberToDecimalString(v)) };
  },
  /** Optional finite float (`min` optional): absent/`""` → undefined, not written when undefined. */
  optFloat(min?: number): FieldCodec<number | undefined> {
    const schema = rawOptional().transform((s, ctx) =>
      s === undefined || s === "" ? undefined : floatTransform(s, ctx, min),
    );
    return { schema, encode: (v) => (v === undefined ? undefined : numberToDecimalString(v)) };
  },
  /** Epoch seconds (float allowed, >= 0). */
  epochSec(): FieldCodec<number> {
    return fields.float(0);
  },
  /** Optional epoch seconds: absent/`""` → undefined, not written when undefined. */
  optEpochSec(): FieldCodec<number | undefined> {
    return fields.optFloat(0);
  },
  /** Non-negative integer (counts). */
  count(): FieldCodec<number> {
    const schema = rawString()
      .regex(/^\d{1,16}$/, "not a non-negative integer")
      .transform(Number)
      .refine(Number.isSafeInteger, "integer too large");
    return { schema, encode: (v) => String(v) };
  },
  /** Required decimal string. */
  decimal(): FieldCodec<string> {
    const schema = rawString()
      .max(MAX_NUMBER_CHARS, `longer than ${MAX_NUMBER_CHARS} chars`)
      .regex(DECIMAL_STRING_RE, "not a decimal string");
    return { schema, encode: (v) => v };
  },
  /** Optional decimal string: absent/`""` → undefined. */
  optDecimal(): FieldCodec<string | undefined> {
    return fields.optStr(MAX_NUMBER_CHARS, DECIMAL_STRING_RE, "not a decimal string");
  },
  /** Decimal string or null; null is written as `""` (so HSET clears it). */
  nullableDecimal(): FieldCodec<string | null> {
    const inner = fields.optDecimal();
    return {
      schema: inner.schema.transform((v) => v ?? null),
      encode: (v) => (v === null ? "" : v),
    };
  },
  /** One of a closed set of strings. */
  oneOf<const V extends string>(values: readonly V[]): FieldCodec<V> {
    const set = new Set<string>(values);
    const schema = rawString().refine((s): s is V => set.has(s), `not one of ${values.join("|")}`);
    return { schema: schema as unknown as z.ZodType<V>, encode: (v) => v };
  },
  /** Optional member of a closed set. */
  optOneOf<const V extends string>(values: readonly V[]): FieldCodec<V | undefined> {
    const set = new Set<string>(values);
    const schema = rawOptional()
      .refine((s) => s === undefined || s === "" || set.has(s), `not one of ${values.join("|")}`)
      .transform((s) => (s === undefined || s === "" ? undefined : (s as V)));
    return { schema, encode: (v) => v };
  },
  /** Python `str(bool)`: exactly `True` or `False`. */
  pyBool(): FieldCodec<boolean> {
    const schema = rawString()
      .refine((s) => s === "True" || s === "False", "not True|False")
      .transform((s) => s === "True");
    return { schema, encode: (v) => (v ? "True" : "False") };
  },
  /** Optional flag: `true`/`True`/`1` → true; absent, `""`, `false`/`False`/`0` → false. Written only when true. */
  flag(trueText: string): FieldCodec<boolean> {
    const truthy = new Set(["true", "True", "1"]);
    const falsy = new Set(["", "false", "False", "0"]);
    const schema = rawOptional()
      .refine((s) => s === undefined || truthy.has(s) || falsy.has(s), "not a boolean flag")
      .transform((s) => s !== undefined && truthy.has(s));
    return { schema, encode: (v) => (v ? trueText : undefined) };
  },
  /** JSON list (`steps`, `steps_results`). */
  jsonArray(max = MAX_JSON_CHARS): FieldCodec<JsonValue[]> {
    const schema = rawString()
      .max(max, `longer than ${max} chars`)
      .transform((s, ctx) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(s);
        } catch {
          ctx.addIssue({ code: "custom", message: "invalid JSON" });
          return z.NEVER;
        }
        if (!Array.isArray(parsed)) {
          ctx.addIssue({ code: "custom", message: "not a JSON list" });
          return z.NEVER;
        }
        return parsed as JsonValue[];
      });
    return { schema, encode: (v) => JSON.stringify(v) };
  },
  /** Comma list (`reason_codes`): items trimmed, empty items dropped; absent → []. */
  commaList(max = MAX_DETAIL_CHARS): FieldCodec<string[]> {
    const schema = rawOptional()
      .refine((s) => s === undefined || s.length <= max, `longer than ${max} chars`)
      .transform((s) =>
        s === undefined
          ? []
          : s
              .split(",")
              .map((x) => x.trim())
              .filter((x) => x !== ""),
      );
    const encode = (v: readonly string[]): string => {
      for (const item of v) {
        if (item === "" || item.includes(",") || item.trim() !== item) {
          throw new Error(
            `list item ${JSON.stringify(item.slice(0, 64))} is empty, untrimmed or has a comma`,
          );
        }
      }
      return v.join(",");
    };
    return { schema, encode };
  },
};
