/** Parsers for raw stream replies (`redis.call(...)` answers), tolerant of nil fields of deleted entries. */

export interface RawEntry {
  id: string;
  /** null when the entry was deleted from the stream but is still in the PEL. */
  fields: Record<string, string> | null;
}

function toRecord(flat: unknown): Record<string, string> | null {
  if (!Array.isArray(flat)) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

export function parseEntries(list: unknown): RawEntry[] {
  if (!Array.isArray(list)) return [];
  const out: RawEntry[] = [];
  for (const item of list) {
    if (!Array.isArray(item) || typeof item[0] !== "string") continue;
    out.push({ id: item[0], fields: toRecord(item[1]) });
  }
  return out;
}

/** XREADGROUP … STREAMS <one stream> <id> → entries of that stream. */
export function parseXreadgroup(reply: unknown): RawEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const first: unknown = reply[0];
  return Array.isArray(first) ? parseEntries(first[1]) : [];
}

/** XAUTOCLAIM → next cursor, claimed entries, ids deleted from the stream (removed from the PEL). */
export function parseXautoclaim(reply: unknown): { next: string; entries: RawEntry[]; deleted: string[] } {
  if (!Array.isArray(reply)) return { next: "0-0", entries: [], deleted: [] };
  const deleted = Array.isArray(reply[2]) ? reply[2].map(String) : [];
  return { next: String(reply[0] ?? "0-0"), entries: parseEntries(reply[1]), deleted };
}

export interface GroupInfo {
  name: string;
  consumers: number;
  /** Entries delivered but not acknowledged. */
  pending: number;
  lastDeliveredId: string;
  /** Entries not yet delivered to the group; null when Redis cannot tell. */
  lag: number | null;
}

/** XINFO GROUPS → one record per group. */
export function parseXinfoGroups(reply: unknown): GroupInfo[] {
  if (!Array.isArray(reply)) return [];
  return reply.map((flat) => {
    const r = new Map<string, unknown>();
    if (Array.isArray(flat)) for (let i = 0; i + 1 < flat.length; i += 2) r.set(String(flat[i]), flat[i + 1]);
    const lag = r.get("lag");
    return {
      name: String(r.get("name") ?? ""),
      consumers: Number(r.get("consumers") ?? 0),
      pending: Number(r.get("pending") ?? 0),
      lastDeliveredId: String(r.get("last-delivered-id") ?? "0-0"),
      lag: lag === null || lag === undefined ? null : Number(lag),
    };
  });
}
