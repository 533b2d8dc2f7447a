import { keys, streams } from "@quantum/contracts";
import { minuteLabel } from "@quantum/insight";
import { SYMBOL_NAMES } from "./fixtures.js";
import type { BenchRedis } from "./harness.js";
import { type P35PhaseResult, preloadResults, timeDrain } from "./phase-p35.js";
import { type Distribution, distribution } from "./stats.js";

export interface PagePhaseResult {
  readonly symbols: number;
  readonly buckets: number;
  /** GET / latency, ms, after the drain (P3.5 idle apart from its windows loop). */
  readonly page: Distribution;
  /** GET / latency, ms, while P3.5 drained the results. */
  readonly pageDuringDrain: Distribution;
  /** The drain of the same results as the P3.5 phase, with the page requested 10 times a second meanwhile. */
  readonly drain: P35PhaseResult;
  /** The same drain on the same data with no page requests: the baseline the drain above is set beside. */
  readonly drainWithoutPage: P35PhaseResult;
}

const SYMBOLS = 50;
const BUCKETS = 24 * 60;
const RESULTS = 100_000;
const PAGE_REQUESTS = 300;
/** While P3.5 drains, the page is requested 10 times a second (a hundred phones reloading every 10 s). */
const DRAIN_PAGE_INTERVAL_MS = 100;
const REASONS = ["action_hold", "p33_permit_denied", "kill_score_critical"] as const;

/** 50 symbol names: the paper symbols, then made-up ones. */
function symbolNames(): string[] {
  const out = [...SYMBOL_NAMES];
  for (let i = 0; out.length < SYMBOLS; i++) out.push(`BENCH${String(i).padStart(2, "0")}USDT`);
  return out;
}

/** Positions for every symbol and a full day of minute buckets with per-symbol reason counters. */
async function fillRedis(r: BenchRedis["client"], symbols: readonly string[]): Promise<void> {
  const nowMs = Date.now();
  const p = r.pipeline();
  symbols.forEach((s, i) => {
    p.hset(keys.positionSnapshot(s), { position_amt: String(i + 1), ts_epoch: (nowMs / 1000).toFixed(3) });
    p.hset(keys.positionLedger(s), { last_known_amt: String(i % 7 === 0 ? i : i + 1) });
    p.hset(keys.positionView(s), { mismatch_since: i % 7 === 0 ? (nowMs / 1000 - 60).toFixed(3) : "" });
    if (i % 10 === 0) p.set(keys.reconcileHold(s), "bench");
    if (i % 5 === 0) p.set(keys.cooldownLastExecTs(s), String(nowMs - 3000));
  });
  await p.exec();
  for (let m = 0; m < BUCKETS; m += 60) {
    const b = r.pipeline();
    for (let k = m; k < Math.min(BUCKETS, m + 60); k++) {
      const key = keys.p35Bucket(minuteLabel(nowMs - k * 60_000));
      const fields: Record<string, string> = { "decision:SKIP": "150", "decision:BLOCKED": "100" };
      for (const reason of REASONS) fields[`reason:${reason}`] = "50";
      for (const s of symbols) for (const reason of REASONS) fields[`symbol_reason:${s}:${reason}`] = "1";
      b.hset(key, fields).expire(key, 48 * 3600);
    }
    await b.exec();
  }
}

async function getPage(port: number): Promise<{ status: number; ms: number; body: string }> {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/`);
  const body = await res.text();
  return { status: res.status, ms: performance.now() - t0, body };
}

/**
 * The status page with 50 symbols and a full day of buckets: GET / latency while P3.5 drains 100,000 results
 * with the page requested 10 times a second (and that drain's rate, to set beside the P3.5 phase), then GET /
 * latency back to back with the drain done.
 */
export async function runPagePhase(
  root: string,
  redis: BenchRedis,
  log: (l: string) => void,
): Promise<PagePhaseResult> {
  const r = redis.client;
  const symbols = symbolNames();
  const load = async () => {
    await r.flushall();
    await fillRedis(r, symbols);
    await preloadResults(r, RESULTS, symbols);
  };
  // Baseline: the same data drained with nobody asking for the page.
  await load();
  const { port: _p, stop: stopQuiet, ...drainWithoutPage } = await timeDrain(root, redis, RESULTS);
  await stopQuiet();
  await load();
  log(`  page: ${symbols.length} symbols, ${BUCKETS} buckets, ${await r.xlen(streams.applyResult)} results`);
  const during: number[] = [];
  const drained = await timeDrain(root, redis, RESULTS, async (port, done) => {
    while (!done()) {
      const next = Date.now() + DRAIN_PAGE_INTERVAL_MS;
      try {
        const res = await getPage(port);
        if (res.status === 200) during.push(res.ms);
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
    }
  });
  const { port, stop, ...drain } = drained;
  try {
    const idle: number[] = [];
    for (let i = 0; i < 20 + PAGE_REQUESTS; i++) {
      const res = await getPage(port);
      if (res.status !== 200) throw new Error(`page answered ${res.status}: ${res.body.slice(0, 300)}`);
      if (i === 0) {
        const rows = res.body.match(/data-symbol="/g)?.length ?? 0;
        if (rows !== symbols.length)
          throw new Error(`page shows ${rows} symbol rows, expected ${symbols.length}`);
      }
      if (i >= 20) idle.push(res.ms);
    }
    return {
      symbols: symbols.length,
      buckets: BUCKETS,
      page: distribution(idle),
      pageDuringDrain: distribution(during),
      drain,
      drainWithoutPage,
    };
  } finally {
    await stop();
  }
}
