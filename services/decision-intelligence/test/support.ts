import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  APPLY_REASONS,
  decodeP35Alert,
  groups,
  keyPatterns,
  keys,
  type P35Alert,
  streams,
} from "@quantum/contracts";
import { loadScripts } from "@quantum/runtime";
import {
  eventually,
  freePort,
  type ServiceProcess,
  startServiceProcess,
  startTestRedis,
  type TestRedis,
  waitServiceReady,
} from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { bucketFieldsOf } from "../src/batch.js";
import { normalizeResult } from "../src/normalize.js";
import { P35_SCRIPTS } from "../src/scripts.js";
import { bucketIdOfSec } from "../src/time.js";

/** The built service (tests run the real process: build first). */
export const ENTRY = fileURLToPath(new URL("../dist/main.js", import.meta.url));

export function assertBuilt(): void {
  if (!existsSync(ENTRY))
    throw new Error(`${ENTRY} is missing: run \`pnpm --filter @quantum/decision-intelligence build\``);
}

export interface RunningService {
  proc: ServiceProcess;
  port: number;
}

/** Start dist/main.js against `redis` db `db` and wait until /health is 200. */
export async function startService(
  redis: TestRedis,
  db: number,
  env: Record<string, string> = {},
): Promise<RunningService> {
  const port = await freePort();
  const proc = startServiceProcess({
    entry: ENTRY,
    env: {
      REDIS_URL: redis.url(db),
      P35_METRICS_PORT: String(port),
      LOG_LEVEL: "warn",
      P35_SNAPSHOT_INTERVAL_SEC: "0.25",
      P35_CONSUMER_NAME: "p35-test",
      ...env,
    },
  });
  // ready = consumer group ensured and windows computed once
  await waitServiceReady(proc, port);
  return { proc, port };
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const SYMBOLS = [
  "BTCUSDT",
  "ETHUSDT",
  "SOLUSDT",
  "XRPUSDT",
  "BNBUSDT",
  "ADAUSDT",
  "DOGEUSDT",
  "AVAXUSDT",
  "DOTUSDT",
  "LINKUSDT",
  "MATICUSDT",
  "LTCUSDT",
  "TRXUSDT",
  "ATOMUSDT",
  "NEARUSDT",
  "APTUSDT",
  "ARBUSDT",
  "OPUSDT",
  "SUIUSDT",
  "1000PEPEUSDT",
];

/**
 * Mixed apply.result entries: this Apply Layer's format (seconds), other producers' (no decision, `executed`
 * in many spellings, the error inside `details`, millisecond timestamps, missing or garbage timestamps,
 * decision synonyms and unknown decisions) and some malformed ones (bad symbols, oversized fields).
 */
export function generateResults(n: number, seed: number, nowSec: number): Record<string, string>[] {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const out: Record<string, string>[] = [];
  for (let i = 0; i < n; i++) {
    const symbol = pick(SYMBOLS);
    const ts = nowSec - rand() * 90 * 60;
    const kind = rand();
    if (kind < 0.45) {
      const decision = pick(["EXECUTE", "SKIP", "BLOCKED", "ERROR"] as const);
      const reason = decision === "EXECUTE" ? "none" : pick(APPLY_REASONS.slice(1));
      out.push({
        plan_id: (i + 0x1000000000000).toString(16).slice(-16),
        symbol,
        decision,
        executed: decision === "EXECUTE" ? "True" : "False",
        would_execute: decision === "EXECUTE" ? "True" : "False",
        reason,
        error: reason === "none" ? "" : reason,
        detail: rand() < 0.2 ? "binance -2022 ReduceOnly Order is rejected" : "",
        steps_results: "[]",
        timestamp: ts.toFixed(3),
        source: "apply_layer",
        v: "1",
      });
    } else if (kind < 0.85) {
      const f: Record<string, string> = {
        symbol: rand() < 0.1 ? symbol.toLowerCase() : symbol,
        executed: pick(["true", "false", "True", "False", "1", "0", "TRUE"]),
      };
      const err = rand();
      if (err < 0.4)
        f.details = JSON.stringify({ error: pick(["p33_permit_denied: no_position", "governor_denied"]) });
      else if (err < 0.6)
        f.error = pick(["Kill switch active", "permit_timeout_or_missing:missing_p33", "None"]);
      const t = rand();
      if (t < 0.8) f.timestamp = String(Math.floor(ts * 1000));
      else if (t < 0.9) f.timestamp = "n/a";
      out.push(f);
    } else if (kind < 0.95) {
      out.push({
        symbol,
        decision: pick([
          "EXECUTED",
          "skipped",
          "BLOCK",
          "FAILED",
          "RECONCILE_CLOSE",
          "PENDING_REVIEW",
          "",
          "None",
        ]),
        executed: pick(["True", "False"]),
        reason: pick(["", "none", "action_hold", "cooldown_in_flight: 3.2s"]),
        timestamp: rand() < 0.5 ? String(Math.floor(ts)) : String(Math.floor(ts * 1000)),
      });
    } else {
      const m = rand();
      if (m < 0.9)
        out.push({ symbol: pick(["BTC/USDT", "ETH USDT", "<script>", "BTC-PERP!"]), decision: "SKIP" });
      else out.push({ symbol: "X".repeat(70_000), decision: "EXECUTE", timestamp: ts.toFixed(0) });
    }
  }
  return out;
}

export interface Expected {
  /** bucket key → field → count */
  buckets: Map<string, Map<string, number>>;
  valid: number;
  malformedIds: string[];
  lastValidId: string;
}

export function emptyExpected(): Expected {
  return { buckets: new Map(), valid: 0, malformedIds: [], lastValidId: "" };
}

/** Add one entry (as written, with its id) to the expected counts, using the service's normalizer. */
export function expectEntry(
  exp: Expected,
  id: string,
  fields: Record<string, string>,
  symbolBreakdown = true,
): void {
  const r = normalizeResult(fields, id);
  if (!r.ok) {
    exp.malformedIds.push(id);
    return;
  }
  exp.valid++;
  exp.lastValidId = id;
  const key = keys.p35Bucket(bucketIdOfSec(r.value.tsSec));
  let b = exp.buckets.get(key);
  if (b === undefined) {
    b = new Map();
    exp.buckets.set(key, b);
  }
  const f = bucketFieldsOf(r.value, symbolBreakdown);
  for (const field of [f.decision, f.reason, f.symbolReason, f.symbolDecision]) {
    if (field !== null) b.set(field, (b.get(field) ?? 0) + 1);
  }
}

/** XADD entries in pipelined chunks; returns their ids. */
export async function feed(
  redis: Redis,
  entries: readonly Record<string, string>[],
  chunk = 500,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < entries.length; i += chunk) {
    const pipe = redis.pipeline();
    for (const e of entries.slice(i, i + chunk))
      pipe.xadd(streams.applyResult, "*", ...Object.entries(e).flat());
    for (const [err, id] of (await pipe.exec()) ?? []) {
      if (err !== null) throw err;
      ids.push(id as string);
    }
  }
  return ids;
}

/** Every bucket as key → field → count (numbers). */
export async function readAllBuckets(redis: Redis): Promise<Map<string, Map<string, number>>> {
  const out = new Map<string, Map<string, number>>();
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", keyPatterns.p35Bucket, "COUNT", 1000);
    cursor = next;
    for (const key of found) {
      const h = await redis.hgetall(key);
      out.set(key, new Map(Object.entries(h).map(([k, v]) => [k, Number(v)])));
    }
  } while (cursor !== "0");
  return out;
}

export async function status(redis: Redis): Promise<Record<string, string>> {
  return redis.hgetall(keys.p35Status);
}

export async function pending(redis: Redis): Promise<number> {
  return ((await redis.xpending(streams.applyResult, groups.p35)) as [number])[0];
}

/** The source ids of the dead-letter entries written for apply.result. */
export async function deadLetterIds(redis: Redis): Promise<string[]> {
  const entries = await redis.xrange(streams.deadLetter, "-", "+");
  return entries.flatMap(([, flat]) => {
    const f = Object.fromEntries(flat.flatMap((v, i, a) => (i % 2 === 0 ? [[v, a[i + 1]]] : [])));
    return f.stream === streams.applyResult && typeof f.id === "string" ? [f.id] : [];
  });
}

/** Sort a map of maps into a plain object for readable diffs. */
export function plain(m: Map<string, Map<string, number>>): Record<string, Record<string, number>> {
  return Object.fromEntries(
    [...m.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => [k, Object.fromEntries([...v.entries()].sort())]),
  );
}

/** Wait until the service finished `n` more window recomputes (status windows_ts moves past now + n intervals). */
export async function waitWindowTicks(redis: Redis, n: number, intervalSec: number): Promise<void> {
  const after = Date.now() / 1000 + n * intervalSec;
  await eventually(async () => Number((await status(redis)).windows_ts ?? 0) > after, { timeoutMs: 10_000 });
}

/** Every entry of quantum:p35:alerts, decoded (a malformed one fails the test). */
export async function alerts(redis: Redis): Promise<P35Alert[]> {
  const entries = await redis.xrange(streams.p35Alerts, "-", "+");
  return entries.map(([, flat]) => {
    const fields = Object.fromEntries(flat.flatMap((v, i, a) => (i % 2 === 0 ? [[v, a[i + 1]]] : [])));
    const d = decodeP35Alert(fields);
    if (!d.ok) throw d.error;
    return d.value;
  });
}

/**
 * A Redis of its own for the calling file or describe block, with P3.5's scripts loaded and flushed before
 * each test (the hooks are registered where it is called). `client()` is the shared client; `newClient()` a
 * further connection with the scripts, for tests that race clients.
 */
export function scriptedRedis(): { client: () => Redis; newClient: () => Redis } {
  let server: TestRedis | null = null;
  let r: Redis | null = null;
  const newClient = (): Redis => {
    if (server === null) throw new Error("scriptedRedis: used outside its tests");
    const c = server.client();
    loadScripts(c, [P35_SCRIPTS]);
    return c;
  };
  beforeAll(async () => {
    server = await startTestRedis();
    r = newClient();
  });
  afterAll(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    await r?.flushdb();
  });
  return {
    client: () => {
      if (r === null) throw new Error("scriptedRedis: used outside its tests");
      return r;
    },
    newClient,
  };
}
