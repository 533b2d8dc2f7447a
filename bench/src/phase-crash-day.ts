import { join } from "node:path";
import { keys, keyspaceChannel, streams } from "@quantum/contracts";
import { ManagedChild } from "@quantum/stack";
import { type FakeBinance, type FakeSymbolSpec, readStream, startFakeBinance } from "@quantum/testkit";
import { executePlanArgs, proposal, seedLedger } from "./fixtures.js";
import { type BenchRedis, type RunningProc, startProc } from "./harness.js";
import { cpuMsOf, memoryOf, metricSum, until } from "./stats.js";

export interface CrashDayResult {
  readonly symbols: number;
  /**
   * One FULL_CLOSE proposal per symbol at once through the Apply Layer (testnet mode against the fake), with
   * permits from the dev governor and P3.3 (testnet mode against the same fake, sharing the account).
   */
  readonly closes: {
    readonly sharePct: number;
    /** Orders the share allows per short interval, and that interval (ms). */
    readonly ordersPerInterval: number;
    readonly intervalMs: number;
    readonly filled: number;
    /** apply.result entries: EXECUTE, and anything else by decision:reason. */
    readonly executed: number;
    readonly otherResults: Record<string, number>;
    readonly posts: number;
    readonly status429: number;
    readonly status418: number;
    readonly flatPositions: number;
    /** Proposals written → last fill at the venue, ms. */
    readonly lastFillMs: number;
    /** Time that many orders take at the share's rate (orders per interval), ms: the target's basis. */
    readonly venueMinimumMs: number;
    /**
     * Earliest the last order could go from this burst's start, given the venue's fixed intervals (aligned to
     * the epoch): the share's orders per interval in the burst's first interval, then one interval each.
     */
    readonly earliestLastOrderMs: number;
    /** Peak RSS (VmHWM) of each process through the run, MB. */
    readonly peakRssMb: { readonly applyLayer: number; readonly p33: number; readonly governor: number };
  };
  /** P3.3 (testnet mode, positions from FakeBinance) given one EXECUTE plan per symbol in one go. */
  readonly p33: {
    readonly permits: number;
    readonly allowed: number;
    /** First plan XADD → last permit key set, ms. */
    readonly lastPermitMs: number;
    /** The same burst to the bench's floor consumer (read, one SET, XACK per plan; nothing else), ms. */
    readonly floorLastPermitMs: number;
    readonly peakRssMb: number;
    /** CPU time (user + system) P3.3 spent from the burst to its last permit, ms. */
    readonly cpuMs: number;
  };
}

const SYMBOLS = 500;
const APPLY_SHARE_PCT = 90;
const P33_SHARE_PCT = 10;
const API_KEY = "benchCrashDayKey0123456789abcdef";
const API_SECRET = "benchCrashDaySecret0123456789abcdef";
/** Binance USDⓈ-M: 300 orders per 10 s per account. */
const VENUE_ORDERS = { limit: 300, intervalMs: 10_000 };

/** C000USDT … C499USDT: small contracts, each with an open long of 10 at mark 2.5. */
function crashSymbols(): FakeSymbolSpec[] {
  return Array.from({ length: SYMBOLS }, (_, i) => ({
    symbol: `C${String(i).padStart(3, "0")}USDT`,
    stepSize: "0.1",
    minQty: "0.1",
    maxQty: "1000000",
    tickSize: "0.001",
    minNotional: "5",
  }));
}

async function openFake(specs: FakeSymbolSpec[]): Promise<FakeBinance> {
  return startFakeBinance({
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    symbols: specs,
    positions: specs.map((s) => ({ symbol: s.symbol, positionAmt: "10.0", markPrice: "2.5" })),
  });
}

/**
 * Crash day against a FakeBinance with the venue's real limits and 500 open positions: (1) 500 FULL_CLOSE
 * proposals at once through the Apply Layer, P3.3 and the dev governor; (2) P3.3 alone answering 500 plans.
 */
export async function runCrashDayPhase(
  root: string,
  redis: BenchRedis,
  log: (l: string) => void,
): Promise<CrashDayResult> {
  const specs = crashSymbols();
  const closes = await measureCloses(root, redis, specs, log);
  const p33 = await measureP33Burst(root, redis, specs, log);
  return { symbols: SYMBOLS, closes, p33 };
}

/** Environment of a service in testnet mode against the fake, with its share of the account's limits. */
function venueEnv(fake: FakeBinance, sharePct: number): Record<string, string> {
  return {
    BINANCE_TESTNET_API_KEY: API_KEY,
    BINANCE_TESTNET_API_SECRET: API_SECRET,
    BINANCE_BASE_URL: fake.baseUrl,
    APPLY_ALLOW_LOOPBACK_EXCHANGE: "true",
    EXCHANGE_RATE_LIMIT_SHARE_PCT: String(sharePct),
  };
}

/**
 * A fresh Redis with P3.3's ledger agreeing with the venue for every symbol (as after a day of fills), and P3.3
 * in testnet mode reading the fake with its share of the account; returns once every snapshot is written.
 */
async function startP33OnFake(
  root: string,
  redis: BenchRedis,
  fake: FakeBinance,
  symbols: readonly string[],
): Promise<RunningProc> {
  const r = redis.client;
  await r.flushall();
  for (const symbol of symbols) await seedLedger(r, symbol, "10.0");
  const proc = await startProc(
    root,
    "position-state-brain",
    redis.url,
    symbols,
    {},
    { overrides: { ...venueEnv(fake, P33_SHARE_PCT), P33_EXCHANGE: "testnet", P33_POLL_SEC: "5" } },
  );
  try {
    await until(
      async () => (await r.exists(...symbols.map((s) => keys.positionSnapshot(s)))) === symbols.length,
      30_000,
      "a snapshot of every symbol",
    );
  } catch (err) {
    await proc.child.stop(12_000);
    throw err;
  }
  return proc;
}

function earliestLastOrderMs(t0: number, orders: number, perInterval: number, intervalMs: number): number {
  const intervals = Math.ceil(orders / perInterval) - 1;
  if (intervals <= 0) return 0;
  return Math.floor(t0 / intervalMs) * intervalMs + intervals * intervalMs - t0;
}

const peakMb = (pid: number | null): number => memoryOf(pid)?.peakMb ?? Number.NaN;

async function measureCloses(
  root: string,
  redis: BenchRedis,
  specs: FakeSymbolSpec[],
  log: (l: string) => void,
): Promise<CrashDayResult["closes"]> {
  const fake = await openFake(specs);
  const r = redis.client;
  const symbols = specs.map((s) => s.symbol);
  const procs: RunningProc[] = [];
  try {
    const p33 = await startP33OnFake(root, redis, fake, symbols);
    procs.push(p33);
    const governor = await startProc(root, "dev-governor", redis.url, symbols, {});
    procs.push(governor);
    const apply = await startProc(
      root,
      "apply-layer",
      redis.url,
      symbols,
      {},
      {
        // APPLY_POLL_SEC=5 is the service default: proposals arrive on the stream.
        overrides: { ...venueEnv(fake, APPLY_SHARE_PCT), APPLY_MODE: "testnet", APPLY_POLL_SEC: "5" },
      },
    );
    procs.push(apply);
    const pipe = r.pipeline();
    for (const symbol of symbols)
      pipe.xadd(streams.harvestProposal, "*", ...proposal(symbol, "FULL_CLOSE_PROPOSED").args);
    const t0 = Date.now();
    await pipe.exec();
    await until(async () => (await r.xlen(streams.applyResult)) >= SYMBOLS, 120_000, "a result per proposal");
    const results = (await readStream(r, streams.applyResult)).map(([, f]) => f);
    const otherResults: Record<string, number> = {};
    for (const f of results.filter((x) => x.decision !== "EXECUTE")) {
      const k = `${f.decision}:${f.reason}`;
      otherResults[k] = (otherResults[k] ?? 0) + 1;
      if (otherResults[k] === 1) log(`  ${k}: ${f.detail ?? ""}`);
    }
    const fills = fake.orders().filter((o) => o.status === "FILLED");
    const refusals = fake.rateLimitRefusals();
    const ordersPerInterval = Math.floor((VENUE_ORDERS.limit * APPLY_SHARE_PCT) / 100);
    const result = {
      sharePct: APPLY_SHARE_PCT,
      ordersPerInterval,
      intervalMs: VENUE_ORDERS.intervalMs,
      filled: fills.length,
      executed: results.filter((x) => x.decision === "EXECUTE").length,
      otherResults,
      posts: fake.requests().filter((q) => q.method === "POST" && q.path === "/fapi/v1/order").length,
      status429: refusals.status429,
      status418: refusals.status418,
      flatPositions: symbols.filter((s) => fake.position(s)?.positionAmt === "0.0").length,
      lastFillMs: Math.max(0, ...fills.map((o) => o.updateTime - t0)),
      venueMinimumMs: (SYMBOLS / ordersPerInterval) * VENUE_ORDERS.intervalMs,
      earliestLastOrderMs: earliestLastOrderMs(t0, SYMBOLS, ordersPerInterval, VENUE_ORDERS.intervalMs),
      peakRssMb: {
        applyLayer: peakMb(apply.child.pid),
        p33: peakMb(p33.child.pid),
        governor: peakMb(governor.child.pid),
      },
    };
    log(
      `  closes: ${result.filled}/${SYMBOLS} filled, ${result.executed} EXECUTE, ${result.flatPositions} flat, ${result.posts} POSTs, 429 ${result.status429}, 418 ${result.status418}, other results ${JSON.stringify(otherResults)}`,
    );
    return result;
  } finally {
    for (const p of procs.reverse()) await p.child.stop(12_000);
    await fake.close();
  }
}

/** P3.3 alone (testnet mode against the fake) given one EXECUTE plan per symbol in one go. */
export async function runP33BurstPhase(
  root: string,
  redis: BenchRedis,
  log: (l: string) => void,
): Promise<CrashDayResult["p33"]> {
  return measureP33Burst(root, redis, crashSymbols(), log);
}

/** XADD one EXECUTE plan per symbol in one pipeline; resolves when every permit key is set: first XADD → last SET. */
async function burstToLastPermit(
  redis: BenchRedis,
  symbols: readonly string[],
  idPrefix: string,
): Promise<{ permits: number; lastPermitMs: number }> {
  const sub = await redis.connection();
  let permits = 0;
  let lastAt = 0;
  sub.on("pmessage", (_p: string, _channel: string, event: string) => {
    if (event !== "set") return;
    permits += 1;
    lastAt = performance.now();
  });
  await sub.psubscribe(`${keyspaceChannel(0, keys.p33Permit(""))}*`);
  try {
    const pipe = redis.client.pipeline();
    for (const [i, symbol] of symbols.entries()) {
      const planId = `${idPrefix}${String(i).padStart(16 - idPrefix.length, "0")}`;
      pipe.xadd(streams.applyPlan, "*", ...executePlanArgs(planId, symbol, "FULL_CLOSE_PROPOSED", 0.9));
    }
    const t0 = performance.now();
    await pipe.exec();
    await until(() => permits >= symbols.length, 30_000, "every permit");
    return { permits, lastPermitMs: lastAt - t0 };
  } finally {
    await sub.punsubscribe();
  }
}

/**
 * The same burst to the bench's floor consumer (`floor-consumer.ts`: read, one SET per plan, XACK, nothing
 * else), freshly started like P3.3: what the machine costs before any of P3.3's work.
 */
async function measureFloor(root: string, redis: BenchRedis, symbols: readonly string[]): Promise<number> {
  let ready = false;
  const child = new ManagedChild(
    {
      name: "floor-consumer",
      command: process.execPath,
      args: [join(root, "bench/dist/floor-consumer.js")],
      env: { PATH: process.env.PATH ?? "", REDIS_URL: redis.url },
      cwd: root,
    },
    {
      onLine: (line: string) => {
        if (line.trim() === "ready") ready = true;
      },
      tailLines: 30,
    },
  );
  child.start();
  try {
    await until(() => ready || !child.running, 30_000, "the floor consumer to start");
    if (!ready) throw new Error(`floor consumer exited: ${child.tail().join("\n")}`);
    return (await burstToLastPermit(redis, symbols, "f")).lastPermitMs;
  } finally {
    await child.stop(5_000);
  }
}

async function measureP33Burst(
  root: string,
  redis: BenchRedis,
  specs: FakeSymbolSpec[],
  log: (l: string) => void,
): Promise<CrashDayResult["p33"]> {
  const fake = await openFake(specs);
  const symbols = specs.map((s) => s.symbol);
  let proc: RunningProc | null = null;
  try {
    proc = await startP33OnFake(root, redis, fake, symbols);
    const pid = proc.child.pid;
    const cpuBefore = cpuMsOf(pid);
    const burst = await burstToLastPermit(redis, symbols, "c");
    const cpuAfter = cpuMsOf(pid);
    const metrics = await (await fetch(`http://127.0.0.1:${proc.port}/metrics`)).text();
    const allowed = metricSum(metrics, "p33_permit_allow_total");
    const peakRssMb = memoryOf(pid)?.peakMb ?? Number.NaN;
    await proc.child.stop(12_000);
    proc = null;
    const floorMs = await measureFloor(root, redis, symbols);
    log(
      `  P3.3: ${burst.permits} permits (${allowed} allow) for ${SYMBOLS} plans; floor consumer ${floorMs.toFixed(1)} ms`,
    );
    return {
      permits: burst.permits,
      allowed,
      lastPermitMs: burst.lastPermitMs,
      floorLastPermitMs: floorMs,
      peakRssMb,
      cpuMs: cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : Number.NaN,
    };
  } finally {
    await proc?.child.stop(12_000);
    await fake.close();
  }
}
