import { type ApplyResult, encodeApplyResult, keys, streams } from "@quantum/contracts";
import { SYMBOL_NAMES } from "./fixtures.js";
import { type BenchRedis, startProc } from "./harness.js";
import { memoryOf, sleep } from "./stats.js";

export interface P35PhaseResult {
  readonly results: number;
  /** Results per second from the service's start (service_start_ts) to processed_total = results. */
  readonly perSecFromServiceStart: number;
  /** The same from the moment the process was spawned (node start-up included). */
  readonly perSecFromSpawn: number;
  readonly drainMs: number;
  readonly peakRssMb: number;
}

const RESULTS = 100_000;
const PIPELINE = 2000;
/** Symbols the results are spread over: the paper symbols plus generated ones (per-symbol windows and checks). */
export const P35_BENCH_SYMBOL_COUNT = 50;
const P35_SYMBOLS: readonly string[] = [
  ...SYMBOL_NAMES,
  ...Array.from({ length: P35_BENCH_SYMBOL_COUNT - SYMBOL_NAMES.length }, (_, i) => `BENCH${i + 1}USDT`),
];

const MIX: ReadonlyArray<Pick<ApplyResult, "decision" | "reason" | "executed">> = [
  { decision: "EXECUTE", reason: "none", executed: true },
  { decision: "SKIP", reason: "action_hold", executed: false },
  { decision: "SKIP", reason: "duplicate_plan", executed: false },
  { decision: "BLOCKED", reason: "p33_permit_denied", executed: false },
  { decision: "BLOCKED", reason: "kill_score_critical", executed: false },
  { decision: "BLOCKED", reason: "permit_timeout_or_missing:missing_governor", executed: false },
  { decision: "ERROR", reason: "unknown_action", executed: false },
];

/** `count` results of the decision mix, spread over the last 50 minutes, XADDed to apply.result in pipelines. */
export async function preloadResults(r: BenchRedis["client"], count: number, symbols: readonly string[]) {
  const now = Date.now() / 1000;
  for (let i = 0; i < count; i += PIPELINE) {
    const p = r.pipeline();
    for (let j = i; j < Math.min(count, i + PIPELINE); j++) {
      const m = MIX[j % MIX.length]!;
      const fields = encodeApplyResult({
        planId: (j + 1).toString(16).padStart(16, "0"),
        symbol: symbols[j % symbols.length] as string,
        decision: m.decision,
        executed: m.executed,
        wouldExecute: m.executed,
        reason: m.reason,
        detail: m.executed ? "filled" : "",
        stepsResults: [],
        timestamp: now - ((count - j) / count) * 3000,
        mode: "paper",
      });
      p.xadd(streams.applyResult, "*", ...Object.entries(fields).flat());
    }
    await p.exec();
  }
}

/**
 * Start P3.5 (P35_START_ID=0) on the results already in apply.result and time the drain of `count`;
 * `during` runs while it drains (the page load of the page phase).
 */
export async function timeDrain(
  root: string,
  redis: BenchRedis,
  count: number,
  during: (port: number, drained: () => boolean) => Promise<void> = async () => undefined,
): Promise<P35PhaseResult & { port: number; stop: () => Promise<void> }> {
  const r = redis.client;
  const spawnedAt = Date.now();
  const proc = await startProc(
    root,
    "decision-intelligence",
    redis.url,
    P35_SYMBOLS,
    { P35_START_ID: "0" },
    { waitReady: false },
  );
  let doneAt = 0;
  const load = during(proc.port as number, () => doneAt !== 0);
  try {
    const deadline = Date.now() + 60_000;
    while (doneAt === 0) {
      if (Number(await r.hget(keys.p35Status, "processed_total")) >= count) doneAt = Date.now();
      else if (Date.now() > deadline || !proc.child.running) {
        throw new Error(`P3.5 did not drain ${count} results: ${proc.child.tail().join("\n")}`);
      } else await sleep(2);
    }
    await load;
    let startTs = Number(await r.hget(keys.p35Status, "service_start_ts"));
    for (let i = 0; i < 200 && !(startTs > 0); i++) {
      await sleep(10);
      startTs = Number(await r.hget(keys.p35Status, "service_start_ts"));
    }
    const fromStartMs = doneAt - startTs * 1000;
    return {
      results: count,
      perSecFromServiceStart: Math.round(count / (fromStartMs / 1000)),
      perSecFromSpawn: Math.round(count / ((doneAt - spawnedAt) / 1000)),
      drainMs: Math.round(fromStartMs),
      peakRssMb: memoryOf(proc.child.pid)?.peakMb ?? Number.NaN,
      port: proc.port as number,
      stop: async () => {
        await proc.child.stop(12_000);
      },
    };
  } catch (err) {
    await proc.child.stop(12_000);
    throw err;
  }
}

/** 100,000 results over 50 symbols pre-loaded into apply.result, then P3.5 started with P35_START_ID=0 and timed. */
export async function runP35Phase(
  root: string,
  redis: BenchRedis,
  log: (l: string) => void,
): Promise<P35PhaseResult> {
  const r = redis.client;
  await r.flushall();
  await preloadResults(r, RESULTS, P35_SYMBOLS);
  log(`  P3.5: ${await r.xlen(streams.applyResult)} results pre-loaded`);
  const { port: _port, stop, ...result } = await timeDrain(root, redis, RESULTS);
  await stop();
  return result;
}
