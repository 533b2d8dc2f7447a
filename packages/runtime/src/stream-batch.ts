import { type DecodeResult, errorText, streams } from "@quantum/contracts";
import type { Redis } from "ioredis";
import type { RawEntry } from "./stream-replies.js";
import { deadLetterFields, xaddArgs } from "./streams.js";

export interface Malformed {
  id: string;
  fields: Record<string, string>;
  error: string;
}

export type Decoder<T> = (fields: Record<string, string>, id: string) => DecodeResult<T>;

/** Split raw entries into decoded items, malformed ones (decoder said no or threw) and deleted ones. */
export function decodeEntries<T>(entries: readonly RawEntry[], decode: Decoder<T>) {
  const items: Array<{ id: string; value: T }> = [];
  const bad: Malformed[] = [];
  const gone: string[] = [];
  for (const e of entries) {
    if (e.fields === null) {
      gone.push(e.id);
      continue;
    }
    try {
      const r = decode(e.fields, e.id);
      if (r.ok) {
        items.push({ id: e.id, value: r.value });
      } else {
        bad.push({ id: e.id, fields: e.fields, error: r.error.message });
      }
    } catch (err) {
      bad.push({ id: e.id, fields: e.fields, error: `decode failed: ${errorText(err)}` });
    }
  }
  return { items, bad, gone };
}

/** Dead-letter malformed entries in one pipeline; resolves to those whose dead letter was written. */
export async function deadLetterEntries(
  redis: Redis,
  source: { stream: string; service: string },
  bad: readonly Malformed[],
): Promise<Malformed[]> {
  if (bad.length === 0) return [];
  const pipe = redis.pipeline();
  for (const b of bad) {
    const fields = deadLetterFields({ ...source, id: b.id, error: b.error, fields: b.fields });
    pipe.xadd(...xaddArgs(streams.deadLetter, fields));
  }
  let results: Array<[Error | null, unknown]> = [];
  try {
    results = (await pipe.exec()) ?? [];
  } catch {
    return [];
  }
  return bad.filter((_, i) => results[i] !== undefined && results[i]?.[0] === null);
}
