import { spawn } from "node:child_process";
import { join } from "node:path";
import { keys, keyspaceChannel, streams } from "@quantum/contracts";
import { QUANTUMCTL_ENTRY, SERVICE_NAMES, type Stack, startStack } from "@quantum/stack";
import {
  BENCH_SYMBOLS,
  type BenchSymbol,
  hsetProposal,
  proposal,
  SYMBOL_NAMES,
  seedPosition,
  waitConsistent,
  xaddProposal,
} from "./fixtures.js";
import { type BenchRedis, StreamWatcher } from "./harness.js";
import { type Distribution, distribution, memoryOf, sleep } from "./stats.js";

export interface StackPhaseResult {
  /** VmRSS in MB per process, after the stack idled a few seconds. */
  readonly idleRssMb: Record<string, number>;
  /** VmHWM (peak) in MB per process after the load of this phase. */
  readonly peakRssMb: Record<string, number>;
  /** Proposal XADDed to the stream → result, after the warm-up proposals. */
  readonly e2e: E2eResult;
  /** The first proposal after the stack started (a stream entry) → its result (executed or not), ms. */
  readonly e2eFirstMs: number;
  /** Proposal written as a hash (one HSET) → result, with APPLY_POLL_SEC=5. */
  readonly e2eHash: E2eResult;
  readonly kill: KillResult;
}

export type E2eResult = Distribution & { readonly executed: number; readonly others: Record<string, number> };

/** How a proposal enters: the stream (XADD) or its hash (HSET). */
type ProposalForm = "stream" | "hash";

export interface KillResult {
  readonly proposalsPerSec: number;
  readonly ordersBeforeFlip: number;
  /** Orders executed after the kill-switch SET (server order of keyspace events): the figure. */
  readonly ordersAfterSet: number;
  /** Orders seen after `quantumctl kill on` returned. */
  readonly ordersAfterReturn: number;
  readonly killOnExitCode: number | null;
  readonly killOnMs: number;
  readonly blockedByKillSwitch: number;
}

const E2E_SAMPLES = 300;
/**
 * Unmeasured proposals of each form before the measured ones: a stack that has just started runs its code
 * unoptimised for about its first hundred plans (the first takes ~30 ms); the measured samples are those of a
 * stack in operation. The first proposal's latency is reported on its own.
 */
const E2E_WARM_UP = 100;
const E2E_BUDGET_MS = 25_000;

async function e2eLatency(
  stack: Stack,
  redis: BenchRedis,
  form: ProposalForm,
  log: (l: string) => void,
  samples = E2E_SAMPLES,
): Promise<E2eResult & { readonly first: number }> {
  const r = redis.client;
  const watcher = await StreamWatcher.start(await redis.connection());
  const ready = new Map<string, Promise<void>>();
  const reseed = async (s: BenchSymbol, after: { planId: string; executed: boolean } | null) => {
    if (after?.executed) {
      // P3.3 applies the result to its ledger first; the bench then re-opens the position (operator-style).
      const planId = after.planId;
      for (;;) {
        if ((await r.hget(keys.positionLedger(s.symbol), "last_result_plan_id")) === planId) break;
        await sleep(2);
      }
    }
    const since = Date.now() / 1000;
    await seedPosition(r, s, s.small);
    await waitConsistent(r, s.symbol, s.small, since);
  };
  for (const s of BENCH_SYMBOLS) ready.set(s.symbol, reseed(s, null));
  const latencies: number[] = [];
  const others: Record<string, number> = {};
  let first = Number.NaN;
  const deadline = Date.now() + E2E_BUDGET_MS;
  for (let i = 0; i < samples && Date.now() < deadline; i++) {
    const s = BENCH_SYMBOLS[i % BENCH_SYMBOLS.length] as BenchSymbol;
    await ready.get(s.symbol);
    const { p, planId, args } = proposal(s.symbol, "FULL_CLOSE_PROPOSED");
    const t0 = performance.now();
    if (form === "stream") await xaddProposal(r, args);
    else await hsetProposal(r, p);
    const seen = await watcher.wait(planId);
    const executed = seen.fields.executed === "True";
    if (i === 0) first = seen.at - t0;
    if (executed) latencies.push(seen.at - t0);
    else {
      const k = `${seen.fields.decision}:${seen.fields.reason}`;
      others[k] = (others[k] ?? 0) + 1;
    }
    ready.set(s.symbol, reseed(s, { planId, executed }));
  }
  await Promise.all(ready.values());
  await watcher.stop();
  if (stack.state().status !== "running") throw new Error("the stack stopped during the e2e samples");
  log(`  e2e (${form}): ${latencies.length} executed samples`);
  return {
    ...distribution(latencies),
    executed: latencies.length,
    others,
    first,
  };
}

const LOAD_PER_SEC = 120;
const LOAD_MS = 4000;
const FLIP_AT_MS = 2000;

function killOn(root: string, url: string): Promise<number | null> {
  return new Promise((resolve) => {
    const p = spawn(
      process.execPath,
      [join(root, QUANTUMCTL_ENTRY), "kill", "on", "--reason", "bench", "--redis-url", url],
      {
        stdio: "ignore",
      },
    );
    p.once("close", (code) => resolve(code));
    p.once("error", () => resolve(null));
  });
}

/** Proposals at LOAD_PER_SEC; `quantumctl kill on` mid-way; orders counted by keyspace-event order. */
async function killSwitchUnderLoad(
  root: string,
  redis: BenchRedis,
  log: (l: string) => void,
): Promise<KillResult> {
  const r = redis.client;
  for (const s of BENCH_SYMBOLS) {
    const since = Date.now() / 1000;
    await seedPosition(r, s, s.large);
    await waitConsistent(r, s.symbol, s.large, since);
  }
  const sub = await redis.connection();
  const killCh = keyspaceChannel(0, keys.killSwitch);
  const ordersCh = keyspaceChannel(0, streams.paperOrders);
  const events: Array<"kill" | "order"> = [];
  sub.on("message", (channel: string, event: string) => {
    if (channel === killCh && event === "set") events.push("kill");
    if (channel === ordersCh && event === "xadd") events.push("order");
  });
  await sub.subscribe(killCh, ordersCh);
  const resultsMark =
    ((await r.xrevrange(streams.applyResult, "+", "-", "COUNT", 1)) as [string, string[]][])[0]?.[0] ?? "0-0";

  let sent = 0;
  let flip: Promise<{ code: number | null; ms: number; eventsAtReturn: number }> | null = null;
  const start = performance.now();
  while (performance.now() - start < LOAD_MS) {
    const due = Math.floor(((performance.now() - start) / 1000) * LOAD_PER_SEC);
    while (sent < due) {
      const s = SYMBOL_NAMES[sent % SYMBOL_NAMES.length] as string;
      xaddProposal(r, proposal(s, "PARTIAL_50").args).catch(() => undefined);
      sent++;
    }
    if (flip === null && performance.now() - start >= FLIP_AT_MS) {
      const t = performance.now();
      flip = killOn(root, redis.url).then(async (code) => {
        const ms = performance.now() - t;
        // A PING on the subscriber answers after every event Redis published before it: the cut is exact.
        await sub.ping();
        return { code, ms, eventsAtReturn: events.length };
      });
    }
    await sleep(2);
  }
  const flipped = await (flip ?? Promise.reject(new Error("kill switch never flipped")));
  await sleep(2000);
  await sub.unsubscribe();
  const setAt = events.indexOf("kill");
  if (setAt < 0) throw new Error("no keyspace event for the kill switch SET");
  const count = (from: number, to = events.length) =>
    events.slice(from, to).filter((e) => e === "order").length;
  const results = (await r.xrange(streams.applyResult, `(${resultsMark}`, "+")) as [string, string[]][];
  const blocked = results.filter(([, f]) => f.includes("kill_switch_active")).length;
  const out: KillResult = {
    proposalsPerSec: LOAD_PER_SEC,
    ordersBeforeFlip: count(0, setAt),
    ordersAfterSet: count(setAt + 1),
    ordersAfterReturn: count(flipped.eventsAtReturn),
    killOnExitCode: flipped.code,
    killOnMs: flipped.ms,
    blockedByKillSwitch: blocked,
  };
  log(
    `  kill switch: ${out.ordersBeforeFlip} orders before the SET, ${out.ordersAfterSet} in flight at it, ${out.ordersAfterReturn} after \`kill on\` returned; ${blocked} plans blocked`,
  );
  return out;
}

async function withStack<T>(
  root: string,
  redis: BenchRedis,
  env: Record<string, string>,
  log: (l: string) => void,
  fn: (stack: Stack) => Promise<T>,
): Promise<T> {
  const lines: string[] = [];
  const stack = await startStack({
    root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, REDIS_URL: redis.url, ...env },
    out: (l) => lines.push(l),
    symbols: SYMBOL_NAMES,
    feeder: false,
    logLevel: "warn",
    preferDefaultPorts: false,
  });
  try {
    return await fn(stack);
  } finally {
    const res = await stack.stop("bench phase done");
    if (res.exitCode !== 0)
      log(`  stack stopped with exit ${res.exitCode}: ${res.reason}\n${lines.slice(-20).join("\n")}`);
  }
}

const PROCS = [...SERVICE_NAMES, "dev-governor"] as const;
const IDLE_MS = 5000;

/**
 * The stack exactly as `scripts/stack.sh` runs it (no feeder) on the bench's Redis: idle RSS with the
 * run command's defaults; then end-to-end latency (proposals on the stream, then as hashes) and the kill
 * switch under load with P33_POLL_SEC=0.1 and P33_COOLDOWN_SEC=0, so back-to-back closes of a symbol are not
 * denied by a stale snapshot or cooldown, and APPLY_POLL_SEC=5.
 */
export async function runStackPhase(
  root: string,
  redis: BenchRedis,
  log: (l: string) => void,
): Promise<StackPhaseResult> {
  await redis.client.flushall();
  for (const s of BENCH_SYMBOLS) await seedPosition(redis.client, s, s.small);
  const idleRssMb = await withStack(root, redis, {}, log, async (stack) => {
    await sleep(IDLE_MS);
    const out: Record<string, number> = {};
    for (const name of PROCS) out[name] = memoryOf(stack.pid(name))?.rssMb ?? Number.NaN;
    return out;
  });
  log(`  idle RSS (MB, after ${IDLE_MS / 1000} s idle): ${JSON.stringify(idleRssMb)}`);
  // APPLY_POLL_SEC=5 (the service default): a hash proposal is fast only when its write wakes the layer.
  const env = { P33_COOLDOWN_SEC: "0", P33_POLL_SEC: "0.1", APPLY_POLL_SEC: "5" };
  return withStack(root, redis, env, log, async (stack) => {
    const warm = await e2eLatency(stack, redis, "stream", log, E2E_WARM_UP);
    await e2eLatency(stack, redis, "hash", log, E2E_WARM_UP);
    const e2e = await e2eLatency(stack, redis, "stream", log);
    const e2eHash = await e2eLatency(stack, redis, "hash", log);
    const kill = await killSwitchUnderLoad(root, redis, log);
    const peakRssMb: Record<string, number> = {};
    for (const name of PROCS) peakRssMb[name] = memoryOf(stack.pid(name))?.peakMb ?? Number.NaN;
    return { idleRssMb, peakRssMb, e2e, e2eHash, e2eFirstMs: warm.first, kill };
  });
}
