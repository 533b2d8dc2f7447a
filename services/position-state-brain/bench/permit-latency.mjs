// P3.3 permit latency benchmark (SPEC §6): plan XADD -> permit readable, at a steady rate, against the real
// service process (dist/main.js, paper venue) and a local test Redis. Build first. Usage:
//   node bench/permit-latency.mjs [--rate 1000] [--seconds 5]
// Prints p50 / p99 / max in ms as seen by a client (keyspace notification of the permit key) and the
// service's own p33_permit_latency_seconds histogram count.
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { encodeApplyPlan, keys, streams } from "@quantum/contracts";
import { seedPaperPosition } from "@quantum/exchange";
import {
  eventually,
  freePort,
  httpGet,
  metricValue,
  scrapeMetrics,
  startServiceProcess,
  startTestRedis,
  waitHealthy,
} from "@quantum/testkit";

const { values } = parseArgs({
  options: { rate: { type: "string", default: "1000" }, seconds: { type: "string", default: "5" } },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const total = Math.round(rate * seconds);
const entry = fileURLToPath(new URL("../dist/main.js", import.meta.url));

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const redis = await startTestRedis();
const port = await freePort();
const proc = startServiceProcess({
  entry,
  env: {
    REDIS_URL: redis.url(0),
    P33_METRICS_PORT: String(port),
    P33_EXCHANGE: "paper",
    P33_LOG_LEVEL: "warn",
  },
});
try {
  const client = redis.client(0);
  const sub = redis.client(0);
  await seedPaperPosition(client, "BTCUSDT", "1.5", "50000");
  await waitHealthy(port);
  await eventually(async () => (await httpGet(port, "/ready")).status === 200);

  const sentAt = new Map();
  const trace = [];
  let start = 0;
  const latencies = [];
  const prefix = `__keyspace@0__:${keys.p33Permit("")}`;
  await sub.psubscribe(`${prefix}*`);
  sub.on("pmessage", (_pattern, channel, event) => {
    if (event !== "set") return;
    const t0 = sentAt.get(channel.slice(prefix.length));
    if (t0 !== undefined) {
      latencies.push(performance.now() - t0);
      if (process.env.BENCH_TRACE) trace.push([t0 - start, performance.now() - t0]);
    }
  });

  const plans = Array.from({ length: total }, (_, i) => {
    const planId = (i + 1).toString(16).padStart(16, "0");
    return {
      planId,
      fields: encodeApplyPlan({
        planId,
        symbol: "BTCUSDT",
        action: ["FULL_CLOSE_PROPOSED", "PARTIAL_75", "PARTIAL_50"][i % 3],
        killScore: 0.31,
        kRegimeFlip: 0,
        kSigmaSpike: 0,
        kTsDrop: 0,
        kAgePenalty: 0,
        newSlProposed: null,
        rNet: 1,
        decision: "EXECUTE",
        reasonCodes: [],
        steps: [],
        closeQty: null,
        price: null,
        timestamp: Date.now() / 1000,
        reduceOnly: true,
      }),
    };
  });
  start = performance.now();
  let next = 0;
  while (next < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    while (next < due) {
      const { planId, fields } = plans[next++];
      sentAt.set(planId, performance.now());
      void client.xadd(streams.applyPlan, "*", ...Object.entries(fields).flat());
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await eventually(() => latencies.length >= total, { timeoutMs: 30_000 });
  const sorted = latencies.slice().sort((a, b) => a - b);
  const text = await scrapeMetrics(port);
  const result = {
    plans: total,
    rate_per_sec: rate,
    p50_ms: Number(percentile(sorted, 50).toFixed(3)),
    p99_ms: Number(percentile(sorted, 99).toFixed(3)),
    max_ms: Number(sorted[sorted.length - 1].toFixed(3)),
    service_histogram_count: metricValue(text, "p33_permit_latency_seconds_count"),
    service_share_within_5ms: Number(
      (
        metricValue(text, "p33_permit_latency_seconds_bucket", { le: "0.005" }) /
        metricValue(text, "p33_permit_latency_seconds_count")
      ).toFixed(4),
    ),
    target_p99_ms: 5,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (process.env.BENCH_TRACE) {
    for (const [at, ms] of trace)
      if (ms > 5) process.stdout.write(`slow at ${at.toFixed(0)} ms: ${ms.toFixed(1)} ms\n`);
  }
  process.exitCode = result.p99_ms <= 5 ? 0 : 1;
} finally {
  await proc.stop();
  await redis.stop();
}
