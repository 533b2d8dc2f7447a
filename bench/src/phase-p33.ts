import { keys, keyspaceChannel, streams } from "@quantum/contracts";
import { seedPaperPosition } from "@quantum/exchange";
import { executePlanArgs } from "./fixtures.js";
import { type BenchRedis, startProc } from "./harness.js";
import { cpuMsOf, type Distribution, distribution, memoryOf, metricSum, sleep, until } from "./stats.js";

export interface P33PhaseResult {
  readonly ratePerSec: number;
  readonly plans: number;
  /** Plan XADD → permit key readable (keyspace `set` seen by the bench), ms. */
  readonly latency: Distribution;
  /** The service's own p33_permit_latency_seconds: share of permits within 5 ms. */
  readonly serviceShareWithin5ms: number;
  readonly peakRssMb: number;
  /** CPU time (user + system) P3.3 spent per plan while the plans were sent and answered, ms. */
  readonly cpuMsPerPlan: number;
}

const RATE = 1000;
const SECONDS = 10;

/** P3.3 alone, fed EXECUTE plans at 1,000/s for 10 s; latency to each permit's keyspace `set` event. */
export async function runP33Phase(
  root: string,
  redis: BenchRedis,
  log: (l: string) => void,
): Promise<P33PhaseResult> {
  const r = redis.client;
  await r.flushall();
  await seedPaperPosition(r, "BTCUSDT", "1.500", "60000.0");
  const proc = await startProc(root, "position-state-brain", redis.url, ["BTCUSDT"], { P33_POLL_SEC: "1" });
  try {
    const total = RATE * SECONDS;
    const plans = Array.from({ length: total }, (_, i) => {
      const planId = (i + 1).toString(16).padStart(16, "0");
      const action = ["FULL_CLOSE_PROPOSED", "PARTIAL_75", "PARTIAL_50"][i % 3] as string;
      return { planId, args: executePlanArgs(planId, "BTCUSDT", action, 0.31) };
    });
    const sub = await redis.connection();
    const prefix = keyspaceChannel(0, keys.p33Permit(""));
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    sub.on("pmessage", (_p: string, channel: string, event: string) => {
      if (event !== "set") return;
      const t0 = sentAt.get(channel.slice(prefix.length));
      if (t0 !== undefined) latencies.push(performance.now() - t0);
    });
    await sub.psubscribe(`${prefix}*`);
    let failed = 0;
    const cpuBefore = cpuMsOf(proc.child.pid);
    const start = performance.now();
    let next = 0;
    while (next < total) {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE) + 1);
      while (next < due) {
        const { planId, args } = plans[next++]!;
        sentAt.set(planId, performance.now());
        r.xadd(streams.applyPlan, "*", ...args).catch(() => {
          failed++;
        });
      }
      await sleep(1);
    }
    await until(() => latencies.length + failed >= total, 30_000, "every permit");
    const cpuAfter = cpuMsOf(proc.child.pid);
    await sub.punsubscribe();
    const metrics = await (await fetch(`http://127.0.0.1:${proc.port}/metrics`)).text();
    const count = metricSum(metrics, "p33_permit_latency_seconds_count");
    const within = metricSum(metrics, "p33_permit_latency_seconds_bucket", { le: "0.005" });
    const result: P33PhaseResult = {
      ratePerSec: RATE,
      plans: total,
      latency: distribution(latencies),
      serviceShareWithin5ms: count > 0 ? within / count : Number.NaN,
      peakRssMb: memoryOf(proc.child.pid)?.peakMb ?? Number.NaN,
      cpuMsPerPlan: cpuBefore !== null && cpuAfter !== null ? (cpuAfter - cpuBefore) / total : Number.NaN,
    };
    log(`  P3.3: ${latencies.length}/${total} permits seen, ${failed} XADDs failed`);
    return result;
  } finally {
    await proc.child.stop(12_000);
  }
}
