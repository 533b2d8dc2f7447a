import { keys, streams } from "@quantum/contracts";
import {
  eventually,
  httpGet,
  metricValue,
  scrapeMetrics,
  startServiceProcess,
  startTestRedis,
  type TestRedis,
} from "@quantum/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertBuilt,
  deadLetterIds,
  ENTRY,
  emptyExpected,
  expectEntry,
  feed,
  generateResults,
  pending,
  plain,
  readAllBuckets,
  startService,
  status,
} from "./support.js";

let redis: TestRedis;

beforeAll(async () => {
  assertBuilt();
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis.stop();
});

/** Entries whose normalized counts are written out by hand below (so the test cannot pass by symmetry). */
const FIXED: Array<Record<string, string>> = [
  // this Apply Layer, seconds: 2025-12-31T23:59:00.5Z
  {
    plan_id: "ba3cbf84bf17f3a2",
    symbol: "BTCUSDT",
    decision: "EXECUTE",
    executed: "True",
    would_execute: "True",
    reason: "none",
    error: "",
    detail: "",
    steps_results: "[]",
    timestamp: "1767225540.5",
    source: "apply_layer",
    v: "1",
  },
  // other producer: no decision, executed False, the error inside details JSON, milliseconds
  {
    symbol: "ETHUSDT",
    executed: "False",
    details: '{"error":"p33_permit_denied: no_position"}',
    timestamp: "1767225545000",
  },
  // other producer: lower-case symbol, executed false without a reason
  { symbol: "ethusdt", executed: "false", timestamp: "1767225599999" },
  // RECONCILE_CLOSE executed, ISO timestamp
  { symbol: "SOLUSDT", decision: "RECONCILE_CLOSE", executed: "1", timestamp: "2025-12-31T23:59:30Z" },
  // unknown decision with a free-text error
  { symbol: "SOLUSDT", decision: "WAT", error: "Kill switch ACTIVE", timestamp: "1767225550" },
  // malformed symbol: dead letter
  { symbol: "NOT A SYMBOL", decision: "SKIP", timestamp: "1767225540" },
];
const FIXED_BUCKET = keys.p35Bucket("202512312359");
const FIXED_BUCKET_COUNTS = {
  "decision:EXECUTE": 2,
  "decision:BLOCKED": 1,
  "decision:SKIP": 1,
  "decision:UNKNOWN": 1,
  "reason:none": 3,
  "reason:p33_permit_denied": 1,
  "reason:kill_switch_active": 1,
  "symbol_reason:BTCUSDT:none": 1,
  "symbol_reason:ETHUSDT:p33_permit_denied": 1,
  "symbol_reason:ETHUSDT:none": 1,
  "symbol_reason:SOLUSDT:none": 1,
  "symbol_reason:SOLUSDT:kill_switch_active": 1,
  "symbol_decision:BTCUSDT:EXECUTE": 1,
  "symbol_decision:ETHUSDT:BLOCKED": 1,
  "symbol_decision:ETHUSDT:SKIP": 1,
  "symbol_decision:SOLUSDT:EXECUTE": 1,
  "symbol_decision:SOLUSDT:UNKNOWN": 1,
};
/** No timestamp at all: counted at its stream id's minute (2025-12-31T00:00:00Z). */
const NO_TS_ID = "1767139200000-1";
const NO_TS_BUCKET = keys.p35Bucket("202512310000");

describe("P3.5 service process (real Redis, dist/main.js)", () => {
  it("replays 10,000 retained mixed results on first start: exact bucket counts, dead letters, nothing pending", async () => {
    const r = redis.client(1);
    const exp = emptyExpected();
    await r.xadd(streams.applyResult, NO_TS_ID, "symbol", "XRPUSDT", "executed", "TRUE");
    expectEntry(exp, NO_TS_ID, { symbol: "XRPUSDT", executed: "TRUE" });
    const generated = generateResults(10_000 - FIXED.length - 1, 35, Date.now() / 1000);
    const all = [...FIXED, ...generated];
    const ids = await feed(r, all);
    all.forEach((f, i) => {
      expectEntry(exp, ids[i]!, f);
    });
    expect(exp.malformedIds.length).toBeGreaterThan(100);

    const t0 = Date.now();
    const svc = await startService(redis, 1, { P35_START_ID: "0" });
    await eventually(
      async () => (await status(r)).processed_total === String(exp.valid) && (await pending(r)) === 0,
      { timeoutMs: 30_000, message: "all entries processed" },
    );
    const drainMs = Date.now() - t0;

    // every bucket equals the input's normalized counts, exactly
    expect(plain(await readAllBuckets(r))).toEqual(plain(exp.buckets));
    // hand-checked entries
    expect(
      Object.fromEntries(Object.entries(await r.hgetall(FIXED_BUCKET)).map(([k, v]) => [k, Number(v)])),
    ).toEqual(FIXED_BUCKET_COUNTS);
    expect(await r.hgetall(NO_TS_BUCKET)).toEqual({
      "decision:EXECUTE": "1",
      "reason:none": "1",
      "symbol_reason:XRPUSDT:none": "1",
      "symbol_decision:XRPUSDT:EXECUTE": "1",
    });
    expect(await r.zscore(keys.p35UnknownDecisionTop5m, "WAT")).toBe("1");
    // malformed entries are in the dead-letter stream, each once
    expect((await deadLetterIds(r)).sort()).toEqual([...exp.malformedIds].sort());
    expect(exp.malformedIds).toContain(ids[FIXED.length - 1]);

    const st = await status(r);
    expect(st).toMatchObject({ last_id: exp.lastValidId, consumer_name: "p35-test" });
    expect(Number(st.service_start_ts)).toBeGreaterThan(t0 / 1000 - 5);
    await eventually(async () => (await status(r)).pending === "0" && (await status(r)).lag === "0");

    const text = await scrapeMetrics(svc.port);
    expect(metricValue(text, "p35_processed_total")).toBe(exp.valid);
    let decisions = 0;
    for (const d of ["EXECUTE", "SKIP", "BLOCKED", "ERROR", "UNKNOWN"]) {
      const want = [...exp.buckets.values()].reduce((s, b) => s + (b.get(`decision:${d}`) ?? 0), 0);
      expect(metricValue(text, "p35_decisions_total", { decision: d })).toBe(want);
      decisions += want;
    }
    expect(decisions).toBe(exp.valid);
    expect(metricValue(text, "quantum_deadletter_total")).toBe(exp.malformedIds.length);
    expect(metricValue(text, "p35_batch_seconds_count")).toBeGreaterThan(0);
    expect(metricValue(text, "p35_consumer_lag")).toBe(0);
    const health = await httpGet(svc.port, "/health");
    expect(JSON.parse(health.body)).toMatchObject({
      status: "ok",
      checks: { redis: { ok: true }, consumer: { ok: true }, windows: { ok: true } },
    });
    expect((await httpGet(svc.port, "/ready")).status).toBe(200);
    expect(await r.hget(keys.serviceStatus("decision-intelligence"), "consumer_name")).toBe("p35-test");

    expect(await svc.proc.stop()).toBe(0);
    process.stderr.write(`[p35] drained ${all.length + 1} entries in ${drainMs} ms (incl. startup)\n`);
  });

  it("SIGKILL while draining: no result counted twice, none lost", async () => {
    const r = redis.client(2);
    const exp = emptyExpected();
    const entries = generateResults(10_000, 3535, Date.now() / 1000);
    const env = { P35_BATCH_SIZE: "25", P35_CONSUMER_NAME: "p35-kill" };
    const chunks = Array.from({ length: 20 }, (_, i) => entries.slice(i * 500, (i + 1) * 500));
    let svc = await startService(redis, 2, env);
    let kills = 0;
    let killedMidStream = 0;
    for (const [i, chunk] of chunks.entries()) {
      const ids = await feed(r, chunk);
      chunk.forEach((f, j) => {
        expectEntry(exp, ids[j]!, f);
      });
      if (i === 5 || i === 12) {
        // kill while the service is busy with the chunk just written
        await eventually(async () => Number((await status(r)).processed_total ?? 0) > 0);
        await svc.proc.kill();
        kills++;
        if (Number((await status(r)).processed_total) < exp.valid) killedMidStream++;
      }
      if (i === 8 || i === 15) svc = await startService(redis, 2, env);
    }
    expect(kills).toBe(2);
    expect(killedMidStream).toBeGreaterThan(0);
    await eventually(
      async () => (await status(r)).processed_total === String(exp.valid) && (await pending(r)) === 0,
      { timeoutMs: 30_000, message: "all entries processed after restarts" },
    );
    const buckets = await readAllBuckets(r);
    expect(plain(buckets)).toEqual(plain(exp.buckets));
    let decisionSum = 0;
    for (const b of buckets.values()) for (const [f, n] of b) if (f.startsWith("decision:")) decisionSum += n;
    expect(decisionSum).toBe(exp.valid);
    // dead-lettering is at-least-once across a SIGKILL: every malformed entry is there, nothing else
    expect(new Set(await deadLetterIds(r))).toEqual(new Set(exp.malformedIds));
    expect(await svc.proc.stop()).toBe(0);
  });

  it("P35_START_ID=$ skips history; once the group exists the start id has no effect", async () => {
    const r = redis.client(3);
    await feed(r, [
      { symbol: "BTCUSDT", decision: "SKIP" },
      { symbol: "ETHUSDT", decision: "SKIP" },
    ]);
    let svc = await startService(redis, 3, { P35_START_ID: "$" });
    await feed(r, [{ symbol: "BTCUSDT", decision: "EXECUTE", executed: "True" }]);
    await eventually(async () => (await status(r)).processed_total === "1" && (await pending(r)) === 0);
    expect(await svc.proc.stop()).toBe(0);
    svc = await startService(redis, 3, { P35_START_ID: "0" });
    await feed(r, [{ symbol: "BTCUSDT", decision: "BLOCKED", reason: "kill_switch_active" }]);
    await eventually(async () => (await status(r)).processed_total === "2" && (await pending(r)) === 0);
    expect(await svc.proc.stop()).toBe(0);
    // processed_total survived the restart (HINCRBY, never reset)
    expect((await status(r)).processed_total).toBe("2");
  });

  it("refuses an invalid configuration before connecting, naming every problem", async () => {
    const p = startServiceProcess({
      entry: ENTRY,
      env: { P35_BATCH_SIZE: "lots", P35_ALERT_THRESHOLD_HIGH: "2", REDIS_URL: "http://nope" },
    });
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toContain("P35_BATCH_SIZE");
    expect(p.stderr()).toContain("P35_ALERT_THRESHOLD_HIGH");
    expect(p.stderr()).toContain("REDIS_URL");
  });
});
