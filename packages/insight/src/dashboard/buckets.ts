import { keys } from "@quantum/contracts";
import type { Redis } from "ioredis";

/** Field prefix of per-symbol reason counts in a P3.5 bucket: `symbol_reason:<SYMBOL>:<R>`. */
export const SYMBOL_REASON_PREFIX = "symbol_reason:";

/** The UTC minute label of a bucket: `YYYYMMDDHHMM`. */
export function minuteLabel(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
}

/**
 * Minute labels oldest → newest: the `complete` previous complete minutes and the current (partial) one,
 * all UTC. `lastMinutes(now, 5)` is the 5-minute span of query B (6 buckets).
 */
export function lastMinutes(nowMs: number, complete: number): string[] {
  const current = Math.floor(nowMs / 60_000) * 60_000;
  const out: string[] = [];
  for (let i = complete; i >= 0; i--) out.push(minuteLabel(current - i * 60_000));
  return out;
}

/** `symbol_reason:<SYMBOL>:<R>` → [SYMBOL, R] (a symbol has no `:`; a reason may have one). */
export function parseSymbolReason(field: string): [string, string] | null {
  if (!field.startsWith(SYMBOL_REASON_PREFIX)) return null;
  const rest = field.slice(SYMBOL_REASON_PREFIX.length);
  const i = rest.indexOf(":");
  if (i <= 0 || i === rest.length - 1) return null;
  return [rest.slice(0, i), rest.slice(i + 1)];
}

export interface SymbolReasonSums {
  /** symbol → reason → count summed over the buckets. */
  readonly sums: Map<string, Map<string, number>>;
  /** Labels of the buckets that existed. */
  readonly found: string[];
}

/** HGETALL the given minute buckets (one round trip) and sum their `symbol_reason:` fields. */
export async function sumSymbolReasons(redis: Redis, minutes: readonly string[]): Promise<SymbolReasonSums> {
  const p = redis.pipeline();
  for (const m of minutes) p.hgetall(keys.p35Bucket(m));
  const replies = (await p.exec()) ?? [];
  const sums = new Map<string, Map<string, number>>();
  const found: string[] = [];
  replies.forEach(([err, value], i) => {
    if (err) throw err;
    const hash = (value ?? {}) as Record<string, string>;
    if (Object.keys(hash).length > 0) found.push(minutes[i]!);
    for (const [field, v] of Object.entries(hash)) {
      const parsed = parseSymbolReason(field);
      const n = Number(v);
      if (parsed === null || !Number.isFinite(n) || n <= 0) continue;
      const [symbol, reason] = parsed;
      let perSymbol = sums.get(symbol);
      if (perSymbol === undefined) {
        perSymbol = new Map();
        sums.set(symbol, perSymbol);
      }
      perSymbol.set(reason, (perSymbol.get(reason) ?? 0) + n);
    }
  });
  return { sums, found };
}
