import { type DecodeResult, type FieldMap, isPlainRecord } from "../codec.js";
import { defineHashCodec } from "../hash-codec.js";
import { clampText, type FieldCodec, fieldCodec, fields, MAX_DETAIL_CHARS } from "../wire.js";

/** Longest raw value (and raw field name) kept in a dead letter, in UTF-16 code units (64 Ki). */
export const MAX_RAW_VALUE_CHARS = 65_536;
/** Longest raw field name kept in a dead letter. */
export const MAX_RAW_KEY_CHARS = 1024;

/**
 * An entry of `quantum:stream:deadletter`: a message a service could not parse. The raw fields travel as
 * one JSON object in the `raw` field (so raw names never collide with the envelope), each value cut to
 * MAX_RAW_VALUE_CHARS; the names of cut fields are listed in `truncated` (a JSON list, left out when empty).
 */
export interface DeadLetter {
  /** Stream (or key) the message came from. */
  readonly stream: string;
  /** Its entry id (or key). */
  readonly id: string;
  readonly service: string;
  /** Why it was rejected (`kill_score: not a number`). */
  readonly error: string;
  readonly raw: Readonly<Record<string, string>>;
  readonly truncated: readonly string[];
  /** Epoch seconds when it was dead-lettered. */
  readonly ts: number;
}

const rawCodec: FieldCodec<Readonly<Record<string, string>>> = fieldCodec(
  (raw) => {
    if (typeof raw !== "string")
      return { ok: false, problem: raw === undefined ? "missing" : "expected a string" };
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return { ok: false, problem: "invalid JSON" };
    }
    if (!isPlainRecord(parsed) || !Object.values(parsed).every((v) => typeof v === "string")) {
      return { ok: false, problem: "not a JSON object of strings" };
    }
    return { ok: true, value: parsed as Record<string, string> };
  },
  (v) => JSON.stringify(v),
);

const truncatedCodec: FieldCodec<readonly string[]> = fieldCodec(
  (raw) => {
    if (raw !== undefined && typeof raw !== "string") return { ok: false, problem: "expected a string" };
    if (raw === undefined || raw === "") return { ok: true, value: [] };
    try {
      const parsed: unknown = JSON.parse(raw);
      if (Array.isArray(parsed) && parsed.every((v) => typeof v === "string"))
        return { ok: true, value: parsed as string[] };
    } catch {
      // reported below
    }
    return { ok: false, problem: "not a JSON list of strings" };
  },
  (v) => (v.length === 0 ? undefined : JSON.stringify(v)),
);

const codec = defineHashCodec<DeadLetter>({
  stream: { wire: "stream", codec: fields.str(256) },
  id: { wire: "id", codec: fields.str(256) },
  service: { wire: "service", codec: fields.str(64) },
  error: { wire: "error", codec: fields.text(MAX_DETAIL_CHARS) },
  raw: { wire: "raw", codec: rawCodec },
  truncated: { wire: "truncated", codec: truncatedCodec },
  ts: { wire: "ts", codec: fields.epochSec() },
});

function asText(v: unknown): string {
  if (typeof v === "string") return v;
  try {
    if (Buffer.isBuffer(v)) return v.toString("utf8");
    const json = JSON.stringify(v);
    if (json !== undefined) return json;
  } catch {
    // not JSON-able (cycle, BigInt, throwing toJSON): fall through
  }
  try {
    return String(v);
  } catch {
    return "[unprintable]";
  }
}

/** Field map of whatever arrived: a record, a flat `[k, v, …]` array, or anything else under `value`. */
function rawEntries(raw: unknown): [string, unknown][] {
  if (Array.isArray(raw)) {
    const out: [string, unknown][] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) out.push([asText(raw[i]), raw[i + 1]]);
    return out;
  }
  if (isPlainRecord(raw)) return Object.entries(raw);
  return [["value", raw]];
}

export interface DeadLetterInput {
  readonly stream: string;
  readonly id: string;
  readonly service: string;
  readonly error: string;
  /** The message as received: a field map, a flat field array, or any other value. */
  readonly raw: unknown;
  readonly ts: number;
}

/**
 * Build a dead letter from an unparseable message: clamp the envelope to its limits, turn raw values into
 * text, cut long ones and record which. Never throws.
 */
export function buildDeadLetter(input: DeadLetterInput): DeadLetter {
  const raw: Record<string, string> = {};
  const truncated: string[] = [];
  let entries: [string, unknown][];
  try {
    entries = rawEntries(input.raw);
  } catch {
    entries = [["value", "[unreadable]"]];
  }
  for (const [key, value] of entries) {
    const name = clampText(key, MAX_RAW_KEY_CHARS);
    const text = asText(value);
    const kept = clampText(text, MAX_RAW_VALUE_CHARS);
    if ((kept.length < text.length || name.length < key.length) && !truncated.includes(name)) {
      truncated.push(name);
    }
    Object.defineProperty(raw, name, { value: kept, enumerable: true, writable: true, configurable: true });
  }
  return {
    stream: clampText(input.stream, 256) || "unknown",
    id: clampText(input.id, 256) || "unknown",
    service: clampText(input.service, 64) || "unknown",
    error: clampText(input.error, MAX_DETAIL_CHARS),
    raw,
    truncated,
    ts: Number.isFinite(input.ts) && input.ts >= 0 ? input.ts : 0,
  };
}

export function decodeDeadLetter(input: unknown): DecodeResult<DeadLetter> {
  return codec.decode(input);
}

/** Encode a dead letter (use buildDeadLetter first for untrusted raw input). Throws EncodeError. */
export function encodeDeadLetter(d: DeadLetter): FieldMap {
  return codec.encode(d);
}
