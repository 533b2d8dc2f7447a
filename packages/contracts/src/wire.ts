import { z } from "zod";
import { DECIMAL_STRING_RE, MAX_NUMBER_CHARS, numberToDecimalString } from "./decimal-string.js";
import type { JsonValue } from "./json.js";
import { PLAN_ID_RE } from "./plan-id.js";

/** What reading one raw field gives: the value, or the problem (`missing`, `not a number`, …). */
export type FieldRead<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problem: string };

/**
 * Field codecs: how one value travels as a Redis field (string) and back. `read` judges the raw field
 * (a string, or `undefined` when the field is absent, or anything else on malformed input) without zod, for hot
 * paths; `schema` is the same reading as a zod schema (built from `read`, for composing with other schemas);
 * `encode` writes the value (`undefined` = leave the field out).
 */
export interface FieldCodec<T> {
  readonly read: (raw: unknown) => FieldRead<T>;
  readonly schema: z.ZodType<T>;
  encode(value: T): string | undefined;
}

const ok = <T>(value: T): FieldRead<T> => ({ ok: true, value });
const bad = <T>(problem: string): FieldRead<T> => ({ ok: false, problem });

/** A codec from its reader and writer; the zod schema reports the reader's problem as its only issue. */
export function fieldCodec<T>(
  read: (raw: unknown) => FieldRead<T>,
  encode: (value: T) => string | undefined,
): FieldCodec<T> {
  const schema = z.unknown().transform((raw, ctx): T => {
    const r = read(raw);
    if (r.ok) return r.value;
    ctx.addIssue({ code: "custom", message: r.problem });
    return z.NEVER;
  });
  return { read, schema, encode };
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

/** A required string field: `missing` when absent, `expected a string` when not a string. */
function requiredString(raw: unknown): FieldRead<string> {
  if (typeof raw === "string") return ok(raw);
  return bad(raw === undefined ? "missing" : "expected a string");
}

/** An optional string field: absent reads as undefined; anything but a string is `expected a string`. */
function optionalString(raw: unknown): FieldRead<string | undefined> {
  if (raw === undefined || typeof raw === "string") return ok(raw);
  return bad("expected a string");
}

/** Parse a float field: finite, Python-style literal. Returns the number or an error message. */
export function parseFloatField(s: string): number | string {
  if (s.length > MAX_NUMBER_CHARS) return `longer than ${MAX_NUMBER_CHARS} chars`;
  if (!FLOAT_STRING_RE.test(s)) return "not a number";
  const n = Number(s);
  return Number.isFinite(n) ? n : "not a finite number";
}

function readFloat(s: string, min?: number): FieldRead<number> {
  const n = parseFloatField(s);
  if (typeof n === "string") return bad(n);
  if (min !== undefined && n < min) return bad(`must be >= ${min}`);
  return ok(n);
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

/** Read an optional string field, then `then` on a present one. */
function optional<T, U>(raw: unknown, absent: U, then: (s: string) => FieldRead<T>): FieldRead<T | U> {
  const r = optionalString(raw);
  if (!r.ok) return r;
  return r.value === undefined ? ok(absent) : then(r.value);
}

/** Read a required string field, then `then` on it. */
function required<T>(raw: unknown, then: (s: string) => FieldRead<T>): FieldRead<T> {
  const r = requiredString(raw);
  return r.ok ? then(r.value) : r;
}

const longer = (max: number) => `longer than ${max} chars`;

/** Whether `s` has more than `max` Unicode code points (how zod's string length bounds count). */
export function overCodePoints(s: string, max: number): boolean {
  if (s.length <= max) return false;
  let n = 0;
  for (const _ of s) if (++n > max) return true;
  return false;
}

export const fields = {
  /** Required non-empty string, at most `max` chars, optionally matching `re`. */
  str(max: number, re?: RegExp, reMessage = "invalid format"): FieldCodec<string> {
    return fieldCodec(
      (raw) =>
        required(raw, (s) => {
          if (s.length < 1) return bad("empty");
          if (overCodePoints(s, max)) return bad(longer(max));
          if (re && !re.test(s)) return bad(reMessage);
          return ok(s);
        }),
      (v) => v,
    );
  },
  /** Optional string: absent or `""` decodes as undefined; undefined and `""` are not written. */
  optStr(max: number, re?: RegExp, reMessage = "invalid format"): FieldCodec<string | undefined> {
    return fieldCodec(
      (raw) =>
        optional(raw, undefined, (v): FieldRead<string | undefined> => {
          if (v === "") return ok(undefined);
          if (v.length > max) return bad(longer(max));
          if (re && !re.test(v)) return bad(reMessage);
          return ok(v);
        }),
      (v) => (v === "" ? undefined : v),
    );
  },
  /** Free text that may be empty (`detail`), at most `max` chars; absent decodes as `""`. */
  text(max: number): FieldCodec<string> {
    return fieldCodec(
      (raw) => optional(raw, "", (v) => (v.length <= max ? ok(v) : bad(longer(max)))),
      (v) => v,
    );
  },
  symbol(): FieldCodec<string> {
    return fields.str(40, SYMBOL_RE, "not a symbol");
  },
  planId(): FieldCodec<string> {
    return fields.str(16, PLAN_ID_RE, "not a plan id (16 hex chars)");
  },
  /** Required finite float (`min` optional). */
  float(min?: number): FieldCodec<number> {
    return fieldCodec((raw) => required(raw, (s) => readFloat(s, min)), numberToDecimalString);
  },
  /** Float that reads `fallback` when absent or empty. */
  floatOr(fallback: number): FieldCodec<number> {
    return fieldCodec(
      (raw) => optional(raw, fallback, (s) => (s === "" ? ok(fallback) : readFloat(s))),
      numberToDecimalString,
    );
  },
  /** Float or null: absent, `""`, `None` (Python) and `null` read as null; null is written as `""`. */
  nullableFloat(min?: number): FieldCodec<number | null> {
    return fieldCodec(
      (raw) =>
        optional(raw, null, (s) => (s === "" || s === "None" || s === "null" ? ok(null) : readFloat(s, min))),
      (v) => (v === null ? "" : numberToDecimalString(v)),
    );
  },
  /** Optional finite float (`min` optional): absent/`""` → undefined, not written when undefined. */
  optFloat(min?: number): FieldCodec<number | undefined> {
    return fieldCodec(
      (raw) => optional(raw, undefined, (s) => (s === "" ? ok(undefined) : readFloat(s, min))),
      (v) => (v === undefined ? undefined : numberToDecimalString(v)),
    );
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
    return fieldCodec(
      (raw) =>
        required(raw, (s) => {
          if (!/^\d{1,16}$/.test(s)) return bad("not a non-negative integer");
          const n = Number(s);
          return Number.isSafeInteger(n) ? ok(n) : bad("integer too large");
        }),
      (v) => String(v),
    );
  },
  /** Required decimal string. */
  decimal(): FieldCodec<string> {
    return fieldCodec(
      (raw) =>
        required(raw, (s) => {
          if (overCodePoints(s, MAX_NUMBER_CHARS)) return bad(longer(MAX_NUMBER_CHARS));
          return DECIMAL_STRING_RE.test(s) ? ok(s) : bad("not a decimal string");
        }),
      (v) => v,
    );
  },
  /** Optional decimal string: absent/`""` → undefined. */
  optDecimal(): FieldCodec<string | undefined> {
    return fields.optStr(MAX_NUMBER_CHARS, DECIMAL_STRING_RE, "not a decimal string");
  },
  /** Decimal string or null; null is written as `""` (so HSET clears it). */
  nullableDecimal(): FieldCodec<string | null> {
    const inner = fields.optDecimal();
    return fieldCodec(
      (raw) => {
        const r = inner.read(raw);
        return r.ok ? ok(r.value ?? null) : r;
      },
      (v) => (v === null ? "" : v),
    );
  },
  /** One of a closed set of strings. */
  oneOf<const V extends string>(values: readonly V[]): FieldCodec<V> {
    const set = new Set<string>(values);
    const problem = `not one of ${values.join("|")}`;
    return fieldCodec(
      (raw) => required(raw, (s) => (set.has(s) ? ok(s as V) : bad(problem))),
      (v) => v,
    );
  },
  /** Optional member of a closed set. */
  optOneOf<const V extends string>(values: readonly V[]): FieldCodec<V | undefined> {
    const set = new Set<string>(values);
    const problem = `not one of ${values.join("|")}`;
    return fieldCodec(
      (raw) =>
        optional(raw, undefined, (s) => (s === "" ? ok(undefined) : set.has(s) ? ok(s as V) : bad(problem))),
      (v) => v,
    );
  },
  /** Python `str(bool)`: exactly `True` or `False`. */
  pyBool(): FieldCodec<boolean> {
    return fieldCodec(
      (raw) =>
        required(raw, (s) => (s === "True" || s === "False" ? ok(s === "True") : bad("not True|False"))),
      (v) => (v ? "True" : "False"),
    );
  },
  /** Optional flag: `true`/`True`/`1` → true; absent, `""`, `false`/`False`/`0` → false. Written only when true. */
  flag(trueText: string): FieldCodec<boolean> {
    const truthy = new Set(["true", "True", "1"]);
    const falsy = new Set(["", "false", "False", "0"]);
    return fieldCodec(
      (raw) =>
        optional(raw, false, (s) =>
          truthy.has(s) ? ok(true) : falsy.has(s) ? ok(false) : bad("not a boolean flag"),
        ),
      (v) => (v ? trueText : undefined),
    );
  },
  /** JSON list (`steps`, `steps_results`). */
  jsonArray(max = MAX_JSON_CHARS): FieldCodec<JsonValue[]> {
    return fieldCodec(
      (raw) =>
        required(raw, (s) => {
          if (overCodePoints(s, max)) return bad(longer(max));
          let parsed: unknown;
          try {
            parsed = JSON.parse(s);
          } catch {
            return bad("invalid JSON");
          }
          return Array.isArray(parsed) ? ok(parsed as JsonValue[]) : bad("not a JSON list");
        }),
      (v) => JSON.stringify(v),
    );
  },
  /** Comma list (`reason_codes`): items trimmed, empty items dropped; absent → []. */
  commaList(max = MAX_DETAIL_CHARS): FieldCodec<string[]> {
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
    return fieldCodec(
      (raw) =>
        optional(
          raw,
          [] as string[],
          (s): FieldRead<string[]> =>
            s.length > max
              ? bad(longer(max))
              : ok(
                  s
                    .split(",")
                    .map((x) => x.trim())
                    .filter((x) => x !== ""),
                ),
        ),
      encode,
    );
  },
};
