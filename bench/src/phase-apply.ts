import { encodeGovernorPermit, encodeP33Permit, keys, keyspaceChannel, streams } from "@quantum/contracts";
import {
  BENCH_SYMBOLS,
  type BenchSymbol,
  proposal,
  SYMBOL_NAMES,
  seedPosition,
  xaddProposal,
} from "./fixtures.js";
import { type BenchRedis, StreamWatcher, startProc } from "./harness.js";
import { type Distribution, distribution, memoryOf, sleep } from "./stats.js";

export interface ApplyPhaseResult {
  /** Second permit's SET returned → the Apply Layer consumed it (keyspace `del` seen by the bench), ms. */
  readonly overhead: Distribution;
  readonly executed: number;
  readonly peakRssMb: number;
}

const SAMPLES = 300;
const BUDGET_MS = 20_000;
/** Time between the first and the second permit, so the Apply Layer is settled in its wait. */
const SETTLE_MS = 15;

/**
 * The Apply Layer alone with a long permit wait; the bench plays both authorities: it writes the P3.3
 * permit, then the Governor permit, and times that SET's return against the consume script's DEL.
 */
export async function runApplyPhase(
  root: string,
  redis: BenchRedis,
  log: (l: string) => void,
): Promise<ApplyPhaseResult> {
  const r = redis.client;
  await r.flushall();
  for (const s of BENCH_SYMBOLS) await seedPosition(r, s, s.large);
  const proc = await startProc(root, "apply-layer", redis.url, SYMBOL_NAMES, {
    APPLY_PERMIT_WAIT_MS: "60000",
    APPLY_POLL_SEC: "5",
  });
  const plans = await StreamWatcher.start(await redis.connection(), streams.applyPlan);
  const results = await StreamWatcher.start(await redis.connection(), streams.applyResult);
  const sub = await redis.connection();
  let delSeen: ((at: number) => void) | null = null;
  let watching = "";
  sub.on("message", (channel: string, event: string) => {
    if (channel === watching && event === "del") delSeen?.(performance.now());
  });
  try {
    const overhead: number[] = [];
    let executed = 0;
    const deadline = Date.now() + BUDGET_MS;
    for (let i = 0; i < SAMPLES && Date.now() < deadline; i++) {
      const s = BENCH_SYMBOLS[i % BENCH_SYMBOLS.length] as BenchSymbol;
      const { planId, args } = proposal(s.symbol, "PARTIAL_50");
      watching = keyspaceChannel(0, keys.governorPermit(planId));
      await sub.subscribe(watching);
      await xaddProposal(r, args);
      await plans.wait(planId);
      const now = Date.now() / 1000;
      await r.set(
        keys.p33Permit(planId),
        encodeP33Permit({
          allow: true,
          symbol: s.symbol,
          safeQty: s.safeQty,
          exchangePositionAmt: s.large,
          ledgerAmt: s.large,
          createdAt: now,
          reason: "sanity_checks_passed",
          venue: null,
          positionSide: "BOTH",
          ledgerResultPlanId: null,
          snapshotTs: null,
        }),
        "EX",
        60,
      );
      await sleep(SETTLE_MS);
      const consumed = new Promise<number>((resolve) => {
        delSeen = resolve;
      });
      const governor = encodeGovernorPermit({
        granted: true,
        symbol: s.symbol,
        decision: "EXECUTE",
        computedQty: null,
        computedNotional: null,
        createdAt: Date.now() / 1000,
        consumed: false,
      });
      await r.set(keys.governorPermit(planId), governor, "EX", 60);
      const setReturned = performance.now();
      const at = await consumed;
      overhead.push(at - setReturned);
      const res = await results.wait(planId);
      if (res.fields.executed === "True") executed++;
      await sub.unsubscribe(watching);
    }
    log(`  Apply: ${overhead.length} samples, ${executed} executed`);
    return {
      overhead: distribution(overhead),
      executed,
      peakRssMb: memoryOf(proc.child.pid)?.peakMb ?? Number.NaN,
    };
  } finally {
    await plans.stop();
    await results.stop();
    await proc.child.stop(12_000);
  }
}
