import type { DecodeResult } from "@quantum/contracts";
import type { Redis } from "ioredis";

/** One Redis key as quantumctl shows it: raw value, decoded value (or why it did not decode) and TTL. */
export interface KeyView<T, Raw = string> {
  readonly key: string;
  readonly present: boolean;
  /** Milliseconds to expiry; null when the key is missing or has no TTL. */
  readonly ttlMs: number | null;
  readonly raw: Raw | null;
  readonly decoded: T | null;
  /** `<field>: <problem>` when the value is present but does not decode. */
  readonly decodeError: string | null;
}

function ttlOf(pttl: unknown): number | null {
  return typeof pttl === "number" && pttl >= 0 ? pttl : null;
}

function build<T, Raw>(
  key: string,
  raw: Raw | null,
  pttl: unknown,
  decode: (raw: Raw) => DecodeResult<T>,
): KeyView<T, Raw> {
  if (raw === null) return { key, present: false, ttlMs: null, raw: null, decoded: null, decodeError: null };
  const d = decode(raw);
  return {
    key,
    present: true,
    ttlMs: ttlOf(pttl),
    raw,
    decoded: d.ok ? d.value : null,
    decodeError: d.ok ? null : d.error.message,
  };
}

function replyValue(reply: [Error | null, unknown] | undefined): unknown {
  if (reply === undefined) throw new Error("missing pipeline reply");
  if (reply[0] !== null) throw reply[0];
  return reply[1];
}

/** GET + PTTL of several string keys in one round trip. */
export async function readStringKeys<T extends readonly string[]>(
  redis: Redis,
  keyNames: T,
): Promise<Array<{ key: string; raw: string | null; pttl: unknown }>> {
  const p = redis.pipeline();
  for (const k of keyNames) p.get(k).pttl(k);
  const replies = (await p.exec()) ?? [];
  return keyNames.map((key, i) => {
    const raw = replyValue(replies[i * 2]);
    return { key, raw: typeof raw === "string" ? raw : null, pttl: replyValue(replies[i * 2 + 1]) };
  });
}

/** HGETALL + PTTL of several hash keys in one round trip (an empty hash reads as null). */
export async function readHashKeys(
  redis: Redis,
  keyNames: readonly string[],
): Promise<Array<{ key: string; raw: Record<string, string> | null; pttl: unknown }>> {
  const p = redis.pipeline();
  for (const k of keyNames) p.hgetall(k).pttl(k);
  const replies = (await p.exec()) ?? [];
  return keyNames.map((key, i) => {
    const raw = replyValue(replies[i * 2]) as Record<string, string> | null;
    const present = raw !== null && Object.keys(raw).length > 0;
    return { key, raw: present ? { ...raw } : null, pttl: replyValue(replies[i * 2 + 1]) };
  });
}

export function stringView<T>(
  r: { key: string; raw: string | null; pttl: unknown },
  decode: (raw: string) => DecodeResult<T>,
): KeyView<T> {
  return build(r.key, r.raw, r.pttl, decode);
}

export function hashView<T>(
  r: { key: string; raw: Record<string, string> | null; pttl: unknown },
  decode: (raw: Record<string, string>) => DecodeResult<T>,
): KeyView<T, Record<string, string>> {
  return build(r.key, r.raw, r.pttl, decode);
}

/** Epoch seconds as ISO-8601 UTC, or null for a value that is not a finite time. */
export function isoOf(epochSec: number | null | undefined): string | null {
  if (epochSec === null || epochSec === undefined || !Number.isFinite(epochSec)) return null;
  const d = new Date(epochSec * 1000);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** A decimal field of a hash as a number (counts, epoch seconds), or null. */
export function numberField(raw: Record<string, string> | null, field: string): number | null {
  const v = raw?.[field];
  if (v === undefined || v.trim() === "") return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}
