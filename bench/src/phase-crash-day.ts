import { keys, keyspaceChannel, streams } from "@quantum/contracts";
import { clientOrderIdFor, createExchange, type OrderOutcome } from "@quantum/exchange";
import { type FakeBinance, type FakeSymbolSpec, startFakeBinance } from "@quantum/testkit";
import { executePlanArgs } from "./fixtures.js";
import { type BenchRedis, startProc } from "./harness.js";
import { memoryOf, metricSum, until } from "./stats.js";

export interface CrashDayResult {
  readonly symbols: number;
  /** The adapter alone (share as the Apply Layer's default) sending one FULL_CLOSE per symbol at once. */
  readonly closes: {
    readonly sharePct: number;
    readonly filled: number;
    readonly otherOutcomes: number;
    readonly posts: number;
    readonly status429: number;
    readonly status418: number;
    readonly flatPositions: number;
    /** Burst start → last fill answered, ms. */
    readonly lastFillMs: number;
    /** Time the venue's 300 orders / 10 s allow for that many orders, ms. */
    readonly venueMinimumMs: number;
  };
  /** P3.3 (testnet mode, positions from FakeBinance) given one EXECUTE plan per symbol in one go. */
  readonly p33: {
    readonly permits: number;
    readonly allowed: number;
    /** First plan XADD → last permit key set, ms. */
    readonly lastPermitMs: number;
    readonly peakRssMb: number;
  };
}

const SYMBOLS = 500;
const APPLY_SHARE_PCT = 90;
const P33_SHARE_PCT = 10;
const API_KEY = "benchCrashDayKey0123456789abcdef";
const API_SECRET = "benchCrashDaySecret0123456789abcdef";
/** Binance USDⓈ-M: 300 orders per 10 s per account. */
const VENUE_ORDERS_PER_10S = 300;

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
 * Crash day, the parts measurable without the Apply Layer: a FakeBinance with the venue's real limits
 * and 500 open positions; (1) the Binance adapter with the Apply Layer's share closing all 500 at once
 * through its throttle; (2) P3.3 reading those positions from the fake and answering 500 plans at once.
 */
export async function runCrashDayPhase(
  root: string,
  redis: BenchRedis,
  log: (l: string) => void,
): Promise<CrashDayResult> {
  const specs = crashSymbols();
  const closes = await measureCloses(specs, log);
  const p33 = await measureP33Burst(root, redis, specs, log);
  return { symbols: SYMBOLS, closes, p33 };
}

async function measureCloses(
  specs: FakeSymbolSpec[],
  log: (l: string) => void,
): Promise<CrashDayResult["closes"]> {
  const fake = await openFake(specs);
  try {
    const ex = await createExchange("testnet", {
      apiKey: API_KEY,
      apiSecret: API_SECRET,
      baseUrl: fake.baseUrl,
      allowLoopback: true,
      rateLimitSharePct: APPLY_SHARE_PCT,
      rateLimitMaxWaitMs: 60_000,
    });
    await ex.serverTime();
    const t0 = performance.now();
    let lastFillMs = 0;
    const outs: OrderOutcome[] = await Promise.all(
      specs.map(async (s) => {
        const out = await ex.placeOrder({
          symbol: s.symbol,
          side: "SELL",
          type: "MARKET",
          quantity: "10.0",
          reduceOnly: true,
          clientOrderId: clientOrderIdFor(`crash-day-${s.symbol}`),
        });
        if (out.kind === "filled") lastFillMs = Math.max(lastFillMs, performance.now() - t0);
        return out;
      }),
    );
    const refusals = fake.rateLimitRefusals();
    const filled = outs.filter((o) => o.kind === "filled").length;
    const result = {
      sharePct: APPLY_SHARE_PCT,
      filled,
      otherOutcomes: outs.length - filled,
      posts: fake.requests().filter((r) => r.method === "POST" && r.path === "/fapi/v1/order").length,
      status429: refusals.status429,
      status418: refusals.status418,
      flatPositions: specs.filter((s) => fake.position(s.symbol)?.positionAmt === "0.0").length,
      lastFillMs,
      venueMinimumMs: (SYMBOLS / VENUE_ORDERS_PER_10S) * 10_000,
    };
    log(
      `  closes: ${filled}/${SYMBOLS} filled, ${result.flatPositions} flat, ${result.posts} POSTs, 429 ${result.status429}, 418 ${result.status418}`,
    );
    return result;
  } finally {
    await fake.close();
  }
}

async function measureP33Burst(
  root: string,
  redis: BenchRedis,
  specs: FakeSymbolSpec[],
  log: (l: string) => void,
): Promise<CrashDayResult["p33"]> {
  const fake = await openFake(specs);
  const r = redis.client;
  await r.flushall();
  const symbols = specs.map((s) => s.symbol);
  const proc = await startProc(
    root,
    "position-state-brain",
    redis.url,
    symbols,
    {},
    {
      overrides: {
        P33_EXCHANGE: "testnet",
        BINANCE_TESTNET_API_KEY: API_KEY,
        BINANCE_TESTNET_API_SECRET: API_SECRET,
        BINANCE_BASE_URL: fake.baseUrl,
        APPLY_ALLOW_LOOPBACK_EXCHANGE: "true",
        EXCHANGE_RATE_LIMIT_SHARE_PCT: String(P33_SHARE_PCT),
        P33_POLL_SEC: "5",
      },
    },
  );
  try {
    await until(
      async () => (await r.exists(...symbols.map((s) => keys.positionSnapshot(s)))) === SYMBOLS,
      30_000,
      "a snapshot of every symbol",
    );
    const sub = await redis.connection();
    const prefix = keyspaceChannel(0, keys.p33Permit(""));
    let permits = 0;
    let lastAt = 0;
    sub.on("pmessage", (_p: string, _channel: string, event: string) => {
      if (event !== "set") return;
      permits += 1;
      lastAt = performance.now();
    });
    await sub.psubscribe(`${prefix}*`);
    const pipe = r.pipeline();
    for (const [i, symbol] of symbols.entries()) {
      const planId = `c${String(i).padStart(15, "0")}`;
      pipe.xadd(streams.applyPlan, "*", ...executePlanArgs(planId, symbol, "FULL_CLOSE_PROPOSED", 0.9));
    }
    const t0 = performance.now();
    await pipe.exec();
    await until(() => permits >= SYMBOLS, 30_000, "every permit");
    await sub.punsubscribe();
    const metrics = await (await fetch(`http://127.0.0.1:${proc.port}/metrics`)).text();
    const allowed = metricSum(metrics, "p33_permit_allow_total");
    const result = {
      permits,
      allowed,
      lastPermitMs: lastAt - t0,
      peakRssMb: memoryOf(proc.child.pid)?.peakMb ?? Number.NaN,
    };
    log(`  P3.3: ${permits} permits (${allowed} allow) for ${SYMBOLS} plans`);
    return result;
  } finally {
    await proc.child.stop(12_000);
    await fake.close();
  }
}
