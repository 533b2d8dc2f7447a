import { keys, p35Fields } from "@quantum/contracts";
import type { StreamItem } from "@quantum/runtime";
import type { Redis } from "ioredis";
import type { NormalizedResult, P35Decision } from "./normalize.js";
import { ScriptReplyError } from "./script-reply-error.js";
import { bucketIdOfSec } from "./time.js";

/** TTL of a minute bucket (48 h). */
export const BUCKET_TTL_SEC = 48 * 3600;
/** TTL of the unknown-decision ZSET (refreshed whenever an unknown decision is counted). */
export const UNKNOWN_TTL_SEC = 24 * 3600;
/** Member of the unknown-decision ZSET for entries that carried neither a decision nor a usable `executed`. */
export const UNKNOWN_MISSING_MEMBER = "(missing)";

/** The bucket hash fields one result increments. */
export interface BucketFields {
  decision: string;
  reason: string;
  /** `symbol_reason:<SYMBOL>:<R>`, or null without a symbol or with the breakdown off. */
  symbolReason: string | null;
  /** `symbol_decision:<SYMBOL>:<D>`, or null without a symbol or with the breakdown off. */
  symbolDecision: string | null;
}

export function bucketFieldsOf(r: NormalizedResult, symbolBreakdown: boolean): BucketFields {
  const perSymbol = symbolBreakdown && r.symbol !== null ? r.symbol : null;
  return {
    decision: p35Fields.decision(r.decision),
    reason: p35Fields.reason(r.reason),
    symbolReason: perSymbol === null ? null : p35Fields.symbolReason(perSymbol, r.reason),
    symbolDecision: perSymbol === null ? null : p35Fields.symbolDecision(perSymbol, r.decision),
  };
}

/** The unknown-decision ZSET member of a result, or null when its decision is known. */
export function unknownMemberOf(r: NormalizedResult): string | null {
  if (r.decision !== "UNKNOWN") return null;
  return r.rawDecision === "" ? UNKNOWN_MISSING_MEMBER : r.rawDecision;
}

export interface ApplyBatchOptions {
  stream: string;
  group: string;
  symbolBreakdown: boolean;
  /** Processing time (last_ts); default now. */
  nowMs?: number;
}

export interface ApplyBatchOutcome {
  /** Entries counted (and acknowledged) by this call. */
  counted: number;
  /** Entries skipped because they were no longer pending (counted and acknowledged before). */
  skipped: number;
  /** Counted entries by decision. */
  byDecision: Record<P35Decision, number>;
  /** Ids counted and acknowledged by this call. */
  countedIds: string[];
}

type ScriptReply = { kind: "ok"; counted: number } | { kind: "gone"; positions: Set<number> };

function fail(problem: string): never {
  throw new ScriptReplyError("applyBatch", problem);
}

function parseReply(reply: unknown, n: number): ScriptReply {
  if (!Array.isArray(reply) || reply.length < 2) fail(`unexpected reply ${JSON.stringify(reply)}`);
  const [code, second] = reply as unknown[];
  if (code === "wrongtype") fail(`key ${String(second)} has a foreign type`);
  if (code === "ok" && second === n && reply.length === 2) return { kind: "ok", counted: n };
  const rest = code === "ok" && second === 0 ? reply.slice(2) : code === "partial" ? reply.slice(1) : null;
  if (rest === null) fail(`unexpected reply ${JSON.stringify(reply).slice(0, 200)}`);
  const positions = new Set<number>();
  for (const pos of rest as unknown[]) {
    if (typeof pos !== "number" || !Number.isInteger(pos) || pos < 1 || pos > n)
      fail(`bad position ${String(pos)}`);
    positions.add(pos - 1);
  }
  if (positions.size === 0) fail("empty partial reply");
  return { kind: "gone", positions };
}

/** Stream ids compare by (ms, seq) as numbers. */
export function compareStreamIds(a: string, b: string): number {
  const ad = a.indexOf("-");
  const bd = b.indexOf("-");
  const am = Number(ad < 0 ? a : a.slice(0, ad));
  const bm = Number(bd < 0 ? b : b.slice(0, bd));
  if (am !== bm) return am - bm;
  return (ad < 0 ? 0 : Number(a.slice(ad + 1))) - (bd < 0 ? 0 : Number(b.slice(bd + 1)));
}

/** KEYS and ARGV of the applyBatch script for these items (increments aggregated per bucket and field). */
function scriptArgs(items: ReadonlyArray<StreamItem<NormalizedResult>>, opts: ApplyBatchOptions): string[] {
  const bucketIndex = new Map<string, number>();
  const bucketKeys: string[] = [];
  // Results are first counted per (bucket, decision, reason, symbol): a batch holds few distinct ones, so the
  // bucket fields are built once per distinct result instead of once per result.
  const distinct = new Map<string, { idx: number; value: NormalizedResult; n: number }>();
  const unknown = new Map<string, number>();
  let maxId = items[0]!.id;
  const ids: string[] = [];
  for (const { id, value } of items) {
    ids.push(id);
    if (compareStreamIds(id, maxId) > 0) maxId = id;
    const key = keys.p35Bucket(bucketIdOfSec(value.tsSec));
    let idx = bucketIndex.get(key);
    if (idx === undefined) {
      bucketKeys.push(key);
      idx = bucketKeys.length;
      bucketIndex.set(key, idx);
    }
    const d = `${idx} ${value.decision} ${value.reason} ${value.symbol ?? ""}`;
    const seen = distinct.get(d);
    if (seen === undefined) distinct.set(d, { idx, value, n: 1 });
    else seen.n++;
    const member = unknownMemberOf(value);
    if (member !== null) unknown.set(member, (unknown.get(member) ?? 0) + 1);
  }
  const increments = new Map<string, number>(); // "<bucket index> <field>" → n
  for (const { idx, value, n } of distinct.values()) {
    const f = bucketFieldsOf(value, opts.symbolBreakdown);
    for (const field of [f.decision, f.reason, f.symbolReason, f.symbolDecision]) {
      if (field === null) continue;
      const k = `${idx} ${field}`;
      increments.set(k, (increments.get(k) ?? 0) + n);
    }
  }
  const keyList = [opts.stream, keys.p35Status, keys.p35UnknownDecisionTop5m, ...bucketKeys];
  const argv: string[] = [
    opts.group,
    String(BUCKET_TTL_SEC),
    String(UNKNOWN_TTL_SEC),
    ((opts.nowMs ?? Date.now()) / 1000).toFixed(3),
    maxId,
    String(ids.length),
    ...ids,
    String(increments.size),
  ];
  for (const [k, n] of increments) {
    const space = k.indexOf(" ");
    argv.push(k.slice(0, space), k.slice(space + 1), String(n));
  }
  argv.push(String(unknown.size));
  for (const [member, n] of unknown) argv.push(member, String(n));
  return [String(keyList.length), ...keyList, ...argv];
}

/** Most script calls for one batch: each retry drops at least one entry that another caller counted. */
const MAX_ATTEMPTS = 8;

/**
 * Count a batch into the minute buckets, update the status hash and acknowledge the batch: ONE round trip
 * (the applyBatch script), atomic, exactly once per entry across crashes and redeliveries (see the script's
 * header for why the pending list is the idempotency marker). When some entries were counted before (a
 * redelivery split differently), the rest is re-aggregated and sent again.
 */
export async function applyBatch(
  redis: Redis,
  items: ReadonlyArray<StreamItem<NormalizedResult>>,
  opts: ApplyBatchOptions,
): Promise<ApplyBatchOutcome> {
  const byDecision: Record<P35Decision, number> = { EXECUTE: 0, SKIP: 0, BLOCKED: 0, ERROR: 0, UNKNOWN: 0 };
  let todo = [...items];
  for (let attempt = 1; todo.length > 0 && attempt <= MAX_ATTEMPTS; attempt++) {
    const [numKeys, ...rest] = scriptArgs(todo, opts);
    const reply = parseReply(await redis.quantumApplyBatch(Number(numKeys), ...rest), todo.length);
    if (reply.kind === "ok") {
      for (const item of todo) byDecision[item.value.decision]++;
      const countedIds = todo.map((i) => i.id);
      return {
        counted: countedIds.length,
        skipped: items.length - countedIds.length,
        byDecision,
        countedIds,
      };
    }
    todo = todo.filter((_, i) => !reply.positions.has(i));
  }
  if (todo.length > 0) fail(`no stable batch after ${MAX_ATTEMPTS} attempts`);
  return { counted: 0, skipped: items.length, byDecision, countedIds: [] };
}
