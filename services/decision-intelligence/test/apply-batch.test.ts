import { groups, keys, streams } from "@quantum/contracts";
import type { StreamItem } from "@quantum/runtime";
import type { Redis } from "ioredis";
import { beforeEach, describe, expect, it } from "vitest";
import { applyBatch, BUCKET_TTL_SEC, UNKNOWN_MISSING_MEMBER } from "../src/batch.js";
import { type NormalizedResult, normalizeResult } from "../src/normalize.js";
import { ScriptReplyError } from "../src/script-reply-error.js";
import { scriptedRedis } from "./support.js";

const redis = scriptedRedis();
let r: Redis;
const STREAM = streams.applyResult;
const GROUP = groups.p35;
const T0 = 1769929500; // 2026-02-01T07:05:00Z → bucket 202602010705
const BUCKET = keys.p35Bucket("202602010705");
const opts = { stream: STREAM, group: GROUP, symbolBreakdown: true };

beforeEach(async () => {
  r = redis.client();
  await r.xgroup("CREATE", STREAM, GROUP, "0", "MKSTREAM");
});

async function add(n: number, fields: (i: number) => Record<string, string>): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++)
    ids.push((await r.xadd(STREAM, "*", ...Object.entries(fields(i)).flat())) as string);
  return ids;
}

/** XREADGROUP as `consumer` and normalize, as the service's consumer does. */
async function read(consumer: string, count = 1000): Promise<StreamItem<NormalizedResult>[]> {
  const reply = (await r.xreadgroup(
    "GROUP",
    GROUP,
    consumer,
    "COUNT",
    count,
    "STREAMS",
    STREAM,
    ">",
  )) as Array<[string, Array<[string, string[]]>]> | null;
  const entries = reply?.[0]?.[1] ?? [];
  return entries.map(([id, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    const n = normalizeResult(fields, id);
    if (!n.ok) throw n.error;
    return { id, value: n.value };
  });
}

const pendingCount = async () => ((await r.xpending(STREAM, GROUP)) as [number])[0];

describe("applyBatch (one atomic script: buckets + status + XACK)", () => {
  it("counts a batch into its UTC minute bucket, updates the status, acknowledges it", async () => {
    const ids = await add(
      4,
      (i): Record<string, string> =>
        i < 3
          ? {
              symbol: "BTCUSDT",
              decision: "BLOCKED",
              reason: "kill_score_critical",
              timestamp: String(T0 + i),
            }
          : { symbol: "ETHUSDT", decision: "HOLD_ON", timestamp: String((T0 + 10) * 1000) },
    );
    const items = await read("c1");
    const out = await applyBatch(r, items, { ...opts, nowMs: 1_800_000_000_000 });
    expect(out).toMatchObject({ counted: 4, skipped: 0, countedIds: ids });
    expect(out.byDecision).toEqual({ EXECUTE: 0, SKIP: 0, BLOCKED: 3, ERROR: 0, UNKNOWN: 1 });
    expect(await r.hgetall(BUCKET)).toEqual({
      "decision:BLOCKED": "3",
      "decision:UNKNOWN": "1",
      "reason:kill_score_critical": "3",
      "reason:none": "1",
      "symbol_reason:BTCUSDT:kill_score_critical": "3",
      "symbol_reason:ETHUSDT:none": "1",
      "symbol_decision:BTCUSDT:BLOCKED": "3",
      "symbol_decision:ETHUSDT:UNKNOWN": "1",
    });
    const ttl = await r.ttl(BUCKET);
    expect(ttl).toBeGreaterThan(BUCKET_TTL_SEC - 10);
    expect(await r.zrange(keys.p35UnknownDecisionTop5m, 0, -1, "WITHSCORES")).toEqual(["HOLD_ON", "1"]);
    expect(await r.hgetall(keys.p35Status)).toEqual({
      processed_total: "4",
      last_id: ids[3],
      last_ts: "1800000000.000",
    });
    expect(await pendingCount()).toBe(0);
  });

  it("a batch applied twice is counted once (the pending list is the idempotency marker)", async () => {
    await add(5, (i) => ({ symbol: "SOLUSDT", executed: "True", timestamp: String(T0 + i) }));
    const items = await read("c1");
    expect((await applyBatch(r, items, opts)).counted).toBe(5);
    const again = await applyBatch(r, items, opts);
    expect(again).toMatchObject({ counted: 0, skipped: 5, countedIds: [] });
    expect(await r.hget(BUCKET, "decision:EXECUTE")).toBe("5");
    expect(await r.hget(keys.p35Status, "processed_total")).toBe("5");
  });

  it("a redelivery split differently from the original batch counts only what was not counted", async () => {
    await add(10, (i) => ({ symbol: "XRPUSDT", executed: "False", timestamp: String(T0 + i) }));
    const items = await read("c1");
    await applyBatch(r, items.slice(0, 4), opts);
    const out = await applyBatch(r, items, opts);
    expect(out).toMatchObject({ counted: 6, skipped: 4 });
    expect(out.countedIds).toEqual(items.slice(4).map((i) => i.id));
    expect(await r.hget(BUCKET, "decision:SKIP")).toBe("10");
    expect(await r.hget(keys.p35Status, "processed_total")).toBe("10");
  });

  it("two consumers holding the same entries (one reclaimed them) count them once", async () => {
    const ids = await add(50, (i) => ({ symbol: "BNBUSDT", decision: "SKIP", timestamp: String(T0 + i) }));
    const items = await read("c1");
    await r.xclaim(STREAM, GROUP, "c2", 0, ...ids);
    const other = redis.newClient();
    const [a, b] = await Promise.all([applyBatch(r, items, opts), applyBatch(other, items, opts)]);
    expect(a.counted + b.counted).toBe(50);
    expect(a.skipped + b.skipped).toBe(50);
    expect(await r.hget(BUCKET, "decision:SKIP")).toBe("50");
    expect(await pendingCount()).toBe(0);
  });

  it("last_id never moves backwards when an older reclaimed batch is applied after a newer one", async () => {
    await add(6, (i) => ({
      symbol: "ADAUSDT",
      decision: "ERROR",
      error: "internal_error",
      timestamp: String(T0 + i),
    }));
    const items = await read("c1");
    await applyBatch(r, items.slice(3), opts);
    await applyBatch(r, items.slice(0, 3), opts);
    expect(await r.hget(keys.p35Status, "last_id")).toBe(items[5]!.id);
    expect(await r.hget(keys.p35Status, "processed_total")).toBe("6");
    expect(await r.hget(BUCKET, "reason:internal_error")).toBe("6");
  });

  it("without the symbol breakdown no per-symbol fields are written; missing decisions are tracked", async () => {
    await add(2, (i) => ({ symbol: "DOTUSDT", timestamp: String(T0 + i) }));
    await applyBatch(r, await read("c1"), { ...opts, symbolBreakdown: false });
    expect(await r.hgetall(BUCKET)).toEqual({ "decision:UNKNOWN": "2", "reason:none": "2" });
    expect(await r.zscore(keys.p35UnknownDecisionTop5m, UNKNOWN_MISSING_MEMBER)).toBe("2");
  });

  it("a bucket key of a foreign type fails the batch before any write; entries stay pending", async () => {
    await add(3, (i) => ({ symbol: "BTCUSDT", decision: "SKIP", timestamp: String(T0 + i) }));
    await r.set(BUCKET, "not a hash");
    const items = await read("c1");
    await expect(applyBatch(r, items, opts)).rejects.toBeInstanceOf(ScriptReplyError);
    expect(await r.exists(keys.p35Status)).toBe(0);
    expect(await pendingCount()).toBe(3);
  });
});
