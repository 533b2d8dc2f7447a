import { type DecodeResult, decodeFail, decodeOk, isPlainRecord, parseJson } from "./codec.js";
import type { JsonObject } from "./json.js";

/**
 * Why something stopped, as data: a bounded reason code and the facts behind it. P3.3 answers a denied plan
 * with one (`{reason, context}` of its permit); the Apply Layer ends or blocks a plan with one, and the
 * result's free-text `detail` is rendered from the context by `renderContext`, never written by hand.
 */

/** One fact of a context: a scalar (null when the fact is unknown or unreadable). */
export type ContextValue = string | number | boolean | null;

/** The facts behind a reason, in the order they are rendered. Keys are snake_case names. */
export type ReasonContext = { readonly [key: string]: ContextValue };

export interface Reasoned<R extends string> {
  readonly reason: R;
  readonly context: ReasonContext;
}

/**
 * The first key of the Apply Layer's `p33_permit_denied` context: P3.3's own reason, followed by P3.3's
 * context. The result's detail therefore starts with `p33_reason=<code>`.
 */
export const P33_REASON_KEY = "p33_reason";

const BARE_VALUE = /^[^\s"=\\]+$/;

function renderValue(v: ContextValue): string {
  if (v === null) return "null";
  if (typeof v !== "string") return String(v);
  return BARE_VALUE.test(v) ? v : JSON.stringify(v);
}

/**
 * The text of a context: `key=value` pairs separated by a space, in the context's key order. A string that
 * is empty or holds a space, `"`, `=` or `\` is written as a JSON string, so the text splits back into its
 * pairs unambiguously; null is `null`. Deterministic: the same context always gives the same text.
 */
export function renderContext(context: ReasonContext): string {
  return Object.entries(context)
    .map(([k, v]) => `${k}=${renderValue(v)}`)
    .join(" ");
}

/** A JSON object as a context: scalars as they are, lists and objects as their JSON text. */
export function contextOfJson(obj: JsonObject): ReasonContext {
  const out: Record<string, ContextValue> = {};
  for (const [k, v] of Object.entries(obj)) {
    out[k] = v !== null && typeof v === "object" ? JSON.stringify(v) : v;
  }
  return out;
}

function isContextValue(v: unknown): v is ContextValue {
  return (
    v === null ||
    typeof v === "string" ||
    typeof v === "boolean" ||
    (typeof v === "number" && Number.isFinite(v))
  );
}

/** Decode a stored context (JSON text of an object of scalars). Never throws. */
export function decodeReasonContext(raw: unknown, field = "context"): DecodeResult<ReasonContext> {
  const parsed = parseJson(raw, field);
  if (!parsed.ok) return parsed;
  if (!isPlainRecord(parsed.value)) return decodeFail(field, "expected a JSON object");
  for (const [k, v] of Object.entries(parsed.value)) {
    if (!isContextValue(v)) return decodeFail(`${field}.${k}`, "expected a string, number, boolean or null");
  }
  return decodeOk(parsed.value as ReasonContext);
}
