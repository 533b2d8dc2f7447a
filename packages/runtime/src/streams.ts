import { hostname } from "node:os";
import { DEFAULT_STREAM_MAXLEN, errorText, streams } from "@quantum/contracts";
import type { Redis } from "ioredis";

/** Per-value size limit of the dead-letter `raw` copy (64 KiB). */
export const DEAD_LETTER_VALUE_MAX_BYTES = 64 * 1024;
/** Limit of the dead-letter `error` text. */
export const DEAD_LETTER_ERROR_MAX_BYTES = 4 * 1024;

function flatten(fields: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(fields)) out.push(k, v);
  return out;
}

/** Arguments of `XADD stream MAXLEN ~ n * f v …`, for use in pipelines: `pipe.xadd(...xaddArgs(…))`. */
export function xaddArgs(
  stream: string,
  fields: Record<string, string>,
  maxlen: number = DEFAULT_STREAM_MAXLEN,
): [string, "MAXLEN", "~", string, "*", ...string[]] {
  return [stream, "MAXLEN", "~", String(maxlen), "*", ...flatten(fields)];
}

/** XADD with `MAXLEN ~ maxlen`; resolves to the entry id. */
export async function xaddCapped(
  redis: Redis,
  stream: string,
  fields: Record<string, string>,
  maxlen: number = DEFAULT_STREAM_MAXLEN,
): Promise<string> {
  const id = await redis.xadd(...xaddArgs(stream, fields, maxlen));
  if (id === null) throw new Error(`XADD to ${stream} returned no id`);
  return id;
}

/** Cut a string to at most `maxBytes` UTF-8 bytes, marking the cut. */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s, "utf8") <= maxBytes) return s;
  const marker = `…[truncated ${Buffer.byteLength(s, "utf8")} bytes]`;
  const keep = Math.max(0, maxBytes - Buffer.byteLength(marker, "utf8"));
  return (
    Buffer.from(s, "utf8")
      .subarray(0, keep)
      .toString("utf8")
      .replace(/\uFFFD+$/, "") + marker
  );
}

export interface DeadLetterInput {
  /** Stream the entry came from. */
  stream: string;
  /** Its entry id. */
  id: string;
  /** Service that could not handle it. */
  service: string;
  /** Why (bounded text). */
  error: string;
  /** The raw field map as read. */
  fields: Record<string, string>;
}

/** The dead-letter entry fields: stream, id, service, error, ts (epoch s), raw (JSON of the fields, each ≤ 64 KiB). */
export function deadLetterFields(input: DeadLetterInput, nowMs: number = Date.now()): Record<string, string> {
  const raw: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.fields)) {
    raw[truncateUtf8(k, 1024)] = truncateUtf8(v, DEAD_LETTER_VALUE_MAX_BYTES);
  }
  return {
    stream: input.stream,
    id: input.id,
    service: input.service,
    error: truncateUtf8(input.error, DEAD_LETTER_ERROR_MAX_BYTES),
    ts: (nowMs / 1000).toFixed(3),
    raw: JSON.stringify(raw),
  };
}

/** Write one entry to `quantum:stream:deadletter`; resolves to the dead-letter entry id. */
export function deadLetter(redis: Redis, input: DeadLetterInput): Promise<string> {
  return xaddCapped(redis, streams.deadLetter, deadLetterFields(input));
}

/** XGROUP CREATE … MKSTREAM; an existing group (BUSYGROUP) is fine. Resolves true when it was created. */
export async function ensureGroup(
  redis: Redis,
  stream: string,
  group: string,
  startId = "$",
): Promise<boolean> {
  try {
    await redis.xgroup("CREATE", stream, group, startId, "MKSTREAM");
    return true;
  } catch (err) {
    if (errorText(err).startsWith("BUSYGROUP")) return false;
    throw err;
  }
}

/** Stable consumer name `<hostname>-<service>` unless overridden. */
export function consumerName(service: string, override?: string): string {
  const o = override?.trim();
  return o !== undefined && o !== "" ? o : `${hostname()}-${service}`;
}
