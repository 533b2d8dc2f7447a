import {
  boundReason,
  clampDetail,
  clampText,
  DecodeError,
  type DecodeResult,
  errorText,
  FLOAT_STRING_RE,
  isPlainRecord,
  SYMBOL_RE,
  streamIdMs,
} from "@quantum/contracts";
import { MAX_BUCKET_MS, MIN_BUCKET_MS } from "./time.js";

/** Decisions P3.5 counts: the four an apply.result can carry plus UNKNOWN for anything it cannot map. */
export const P35_DECISIONS = ["EXECUTE", "SKIP", "BLOCKED", "ERROR", "UNKNOWN"] as const;
export type P35Decision = (typeof P35_DECISIONS)[number];

/** One apply.result entry as P3.5 counts it. */
export interface NormalizedResult {
  readonly decision: P35Decision;
  /** The `decision` text as received (trimmed, at most MAX_RAW_DECISION_CHARS); "" when absent. */
  readonly rawDecision: string;
  /** Bounded reason code, `none` on success or when no reason was given. */
  readonly reason: string;
  /** Free text cut from the reason (or the entry's `detail`), at most MAX_DETAIL_CHARS. */
  readonly detail: string;
  /** Upper-cased symbol, or null when the entry names none. */
  readonly symbol: string | null;
  /** Epoch seconds the result belongs to (its bucket minute). */
  readonly tsSec: number;
  /** Whether tsSec came from the entry's timestamp or, lacking a usable one, from its stream id. */
  readonly tsSource: "timestamp" | "stream_id";
}

export type NormalizeResult = DecodeResult<NormalizedResult>;

/** Longest field value accepted (the longest JSON field of an apply.result); larger entries are dead-lettered. */
export const MAX_FIELD_CHARS = 65_536;
/** Most fields an entry may have. */
export const MAX_FIELDS = 256;
/** Longest raw decision text kept for the unknown-decision ZSET. */
export const MAX_RAW_DECISION_CHARS = 64;
/** Timestamps outside [2000-01-01, 2100-01-01) are implausible: the stream id's time is used instead. */
export const MIN_PLAUSIBLE_SEC = 946_684_800;
export const MAX_PLAUSIBLE_SEC = 4_102_444_800;

const DECISION_MAP: Readonly<Record<string, Exclude<P35Decision, "UNKNOWN">>> = {
  EXECUTE: "EXECUTE",
  EXECUTED: "EXECUTE",
  EXEC: "EXECUTE",
  SKIP: "SKIP",
  SKIPPED: "SKIP",
  BLOCKED: "BLOCKED",
  BLOCK: "BLOCKED",
  ERROR: "ERROR",
  FAILED: "ERROR",
  FAIL: "ERROR",
};

/** Values that mean "not given" in other producers (Python `None`, JSON `null`, empty). */
const ABSENT = new Set(["", "none", "null"]);
const ISO_RE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;
/** `'error': 'text'` inside a Python dict repr (other producers write `str(dict)` instead of JSON). */
const PY_DICT_ERROR_RE = /['"]error['"]\s*:\s*['"]([^'"]*)['"]/;

function present(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  return ABSENT.has(t.toLowerCase()) ? undefined : t;
}

/** `executed`: true (any case) or 1 → true; false (any case) or 0 → false; anything else → undefined. */
export function parseExecuted(v: string | undefined): boolean | undefined {
  const t = v?.trim().toLowerCase();
  if (t === "true" || t === "1") return true;
  if (t === "false" || t === "0") return false;
  return undefined;
}

/** The `error` inside a `details` JSON object (or a Python dict repr), if any. */
function errorFromDetails(details: string | undefined): string | undefined {
  const t = details?.trim();
  if (t === undefined || !t.startsWith("{")) return undefined;
  try {
    const parsed: unknown = JSON.parse(t);
    if (isPlainRecord(parsed)) {
      const e = parsed.error;
      return typeof e === "string" ? present(e) : undefined;
    }
  } catch {
    const m = PY_DICT_ERROR_RE.exec(t);
    if (m !== null) return present(m[1]);
  }
  return undefined;
}

/** Reason text: top-level `reason`, then `error`, then `error` inside `details`; undefined when none. */
function rawReasonOf(f: Readonly<Record<string, string>>): string | undefined {
  return present(f.reason) ?? present(f.error) ?? errorFromDetails(f.details);
}

/** Epoch seconds from a seconds, milliseconds or microseconds number, or an ISO-8601 text; null if unusable. */
export function parseTimestamp(v: string | undefined): number | null {
  const t = v?.trim();
  if (t === undefined || t === "" || t.length > 40) return null;
  let sec: number;
  if (FLOAT_STRING_RE.test(t)) {
    const n = Number(t);
    if (!Number.isFinite(n)) return null;
    sec = n >= 1e14 ? n / 1e6 : n >= 1e11 ? n / 1e3 : n;
  } else if (ISO_RE.test(t)) {
    const ms = Date.parse(t);
    if (Number.isNaN(ms)) return null;
    sec = ms / 1000;
  } else {
    return null;
  }
  return sec >= MIN_PLAUSIBLE_SEC && sec < MAX_PLAUSIBLE_SEC ? sec : null;
}

function decide(
  f: Readonly<Record<string, string>>,
  reason: string,
): { decision: P35Decision; rawDecision: string } {
  const raw = present(f.decision);
  const executed = parseExecuted(f.executed);
  if (raw !== undefined) {
    const rawDecision = clampText(raw, MAX_RAW_DECISION_CHARS);
    const upper = raw.toUpperCase();
    if (upper === "RECONCILE_CLOSE")
      return { decision: executed === true ? "EXECUTE" : "BLOCKED", rawDecision };
    return { decision: DECISION_MAP[upper] ?? "UNKNOWN", rawDecision };
  }
  if (executed === true) return { decision: "EXECUTE", rawDecision: "" };
  if (executed === false) return { decision: reason !== "none" ? "BLOCKED" : "SKIP", rawDecision: "" };
  return { decision: "UNKNOWN", rawDecision: "" };
}

function checkShape(fields: unknown): Readonly<Record<string, string>> | DecodeError {
  if (!isPlainRecord(fields)) return new DecodeError("$", "not a field map");
  const names = Object.keys(fields);
  if (names.length > MAX_FIELDS) return new DecodeError("$", `more than ${MAX_FIELDS} fields`);
  for (const name of names) {
    const v = fields[name];
    if (typeof v !== "string") return new DecodeError(clampText(name, 64), "expected a string");
    if (v.length > MAX_FIELD_CHARS) {
      return new DecodeError(clampText(name, 64), `longer than ${MAX_FIELD_CHARS} chars`);
    }
  }
  return fields as Readonly<Record<string, string>>;
}

/**
 * Normalize one apply.result entry from this Apply Layer or another producer. Total: never throws;
 * entries P3.5 cannot count (not a field map, an oversized field, a malformed symbol, no usable time and no
 * stream id) come back as a DecodeError for the dead-letter stream.
 *
 * - decision: EXECUTE/EXECUTED/EXEC → EXECUTE, SKIP/SKIPPED → SKIP, BLOCKED/BLOCK → BLOCKED,
 *   ERROR/FAILED/FAIL → ERROR (any case), RECONCILE_CLOSE → EXECUTE if executed else BLOCKED, other text →
 *   UNKNOWN. Without a decision (absent, empty, `None`, `null`): executed true/1 → EXECUTE, false/0 → BLOCKED
 *   when a reason exists else SKIP; no usable `executed` either → UNKNOWN.
 * - reason: `reason`, then `error`, then `error` inside the `details` JSON (empty/`None`/`null` skipped), else
 *   `none`; bounded with boundReason (text after a known code or the first `:` goes to detail).
 * - time: `timestamp` (or `ts`) in seconds, milliseconds or microseconds, or ISO-8601; when missing or
 *   implausible, the time of the stream id.
 */
export function normalizeResult(fields: unknown, streamId?: string): NormalizeResult {
  try {
    const f = checkShape(fields);
    if (f instanceof DecodeError) return { ok: false, error: f };

    let symbol: string | null = null;
    const rawSymbol = present(f.symbol);
    if (rawSymbol !== undefined) {
      const upper = rawSymbol.toUpperCase();
      if (!SYMBOL_RE.test(upper)) return { ok: false, error: new DecodeError("symbol", "not a symbol") };
      symbol = upper;
    }

    let tsSec = parseTimestamp(f.timestamp) ?? parseTimestamp(f.ts);
    let tsSource: NormalizedResult["tsSource"] = "timestamp";
    if (tsSec === null) {
      const ms = streamIdMs(streamId);
      if (ms === null || ms < MIN_BUCKET_MS || ms > MAX_BUCKET_MS) {
        return { ok: false, error: new DecodeError("timestamp", "missing or unusable, and no stream id") };
      }
      tsSec = ms / 1000;
      tsSource = "stream_id";
    }

    const rawReason = rawReasonOf(f);
    const bounded = rawReason === undefined ? { reason: "none", detail: "" } : boundReason(rawReason);
    const detail = clampDetail(bounded.detail !== "" ? bounded.detail : (f.detail?.trim() ?? ""));
    const { decision, rawDecision } = decide(f, bounded.reason);
    return {
      ok: true,
      value: { decision, rawDecision, reason: bounded.reason, detail, symbol, tsSec, tsSource },
    };
  } catch (err) {
    // Defensive: nothing above is expected to throw (property-tested); an input that does is malformed.
    const why = errorText(err);
    return { ok: false, error: new DecodeError("$", `normalizer failure: ${clampText(why, 200)}`) };
  }
}
