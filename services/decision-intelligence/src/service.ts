import { groups, keys, streams } from "@quantum/contracts";
import {
  createP35Metrics,
  createServiceRegistry,
  createStreamMetrics,
  type HealthReport,
  healthReport,
  type MetricsServer,
  startMetricsServer,
} from "@quantum/metrics";
import {
  claimConsumerName,
  closeRedis,
  consumerName,
  createRedis,
  type Logger,
  redisHealthy,
  redisReady,
  type StatusHeartbeat,
  StreamConsumer,
  type StreamItem,
  startStatusHeartbeat,
} from "@quantum/runtime";
import type { Redis } from "ioredis";
import { applyBatch } from "./batch.js";
import { type P35Config, SERVICE_NAME } from "./config.js";
import { DayRollups } from "./day-rollups.js";
import { type NormalizedResult, normalizeResult } from "./normalize.js";
import { statusPageRoutes } from "./page/status-page.js";
import { registerP35Scripts } from "./scripts.js";
import { StuckDetector } from "./stuck-detector.js";
import { WindowLoop } from "./window-loop.js";

/** What P3.5 reports as its mode/venue in quantum_service_info and its status key (it never trades). */
export const P35_MODE = "analytics";
export const P35_VENUE = "none";

export interface P35Service {
  /** Port of /metrics /health /ready. */
  readonly port: number;
  readonly consumerName: string;
  health(): Promise<HealthReport>;
  /** Stop reading, finish and acknowledge the batch in flight, stop the loops, close server and Redis. */
  stop(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  version: string;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function buildConsumer(
  config: P35Config,
  deps: {
    main: Redis;
    blocking: Redis;
    name: string;
    log: Logger;
    metrics: ReturnType<typeof createP35Metrics>;
  },
  streamMetrics: ReturnType<typeof createStreamMetrics>,
): StreamConsumer<NormalizedResult> {
  const { main, log, metrics } = deps;
  const batchLog = log.child({ component: "batch" });
  const handleBatch = async (items: StreamItem<NormalizedResult>[]): Promise<readonly string[]> => {
    const end = metrics.batchSeconds.startTimer();
    const outcome = await applyBatch(main, items, {
      stream: streams.applyResult,
      group: groups.p35,
      symbolBreakdown: config.ENABLE_SYMBOL_BREAKDOWN,
    });
    end();
    metrics.processed.inc(outcome.counted);
    for (const [decision, n] of Object.entries(outcome.byDecision)) {
      if (n > 0) metrics.decisions.inc({ decision }, n);
    }
    if (outcome.skipped > 0) {
      batchLog.info(
        { skipped: outcome.skipped, counted: outcome.counted },
        "redelivered entries already counted",
      );
    }
    batchLog.debug({ counted: outcome.counted, firstId: items[0]?.id }, "batch counted");
    // Skipped entries were counted and acknowledged earlier: they are done too.
    return items.map((i) => i.id);
  };
  return new StreamConsumer<NormalizedResult>({
    redis: main,
    blocking: deps.blocking,
    stream: streams.applyResult,
    group: groups.p35,
    consumer: deps.name,
    service: SERVICE_NAME,
    startId: config.P35_START_ID,
    batchSize: config.P35_BATCH_SIZE,
    // Two batches in flight: the next one is read and normalized while the previous one's script runs. Order
    // does not matter: each batch is counted atomically and last_id only moves forward.
    maxInFlight: config.P35_BATCH_SIZE * 2,
    claimIdleMs: config.P35_CLAIM_IDLE_MS,
    decode: (fields, id) => normalizeResult(fields, id),
    handleBatch,
    logger: log,
    metrics: streamMetrics,
  });
}

/**
 * Start P3.5 Decision Intelligence: consumer group `p35_decision_intel` on apply.result → minute buckets
 * (exactly once); every P35_SNAPSHOT_INTERVAL_SEC the windows (overall and per symbol), alerts, the stuck
 * check and the daily rollup; status hash, metrics server.
 * Waits at most 5 s for Redis; without it the service still starts, the loops retry until it answers, and
 * /health is red meanwhile.
 */
export async function startDecisionIntelligence(config: P35Config, opts: StartOptions): Promise<P35Service> {
  const log = opts.logger;
  const main = createRedis(config, { name: SERVICE_NAME, logger: log });
  const blocking = createRedis(config, { name: SERVICE_NAME, role: "blocking", logger: log });
  registerP35Scripts(main);
  // Wait (bounded) for the first connection so the loops do not start with a burst of retries; when Redis is
  // down they start anyway and retry until it answers (/health stays red meanwhile).
  const [mainUp, blockingUp] = await Promise.all([redisReady(main, 5000), redisReady(blocking, 5000)]);
  if (!mainUp || !blockingUp) log.warn({}, "redis not reachable yet, starting anyway and retrying");
  const name = consumerName(SERVICE_NAME, config.P35_CONSUMER_NAME);
  const startedAt = (Date.now() / 1000).toFixed(3);

  const registry = createServiceRegistry({ service: SERVICE_NAME, mode: P35_MODE, version: opts.version });
  const metrics = createP35Metrics(registry);
  const streamMetrics = createStreamMetrics(registry, SERVICE_NAME);
  const consumer = buildConsumer(config, { main, blocking, name, log, metrics }, streamMetrics);

  let heartbeat: StatusHeartbeat | null = null;
  let firstBeatDone = false;
  const updateStatus = async (): Promise<void> => {
    if (!firstBeatDone && heartbeat !== null) {
      // The heartbeat's own first write may have hit a connection that was not ready yet: write it now.
      firstBeatDone = true;
      await heartbeat.beat();
    }
    const g = await consumer.groupInfo().catch((err: unknown) => {
      // The group appears with the consumer's first iteration; until then there is nothing to report.
      if (errorText(err).includes("does not exist") || errorText(err).includes("no such key")) return null;
      throw err;
    });
    const fields: Record<string, string> = {
      consumer_name: name,
      service_start_ts: startedAt,
      windows_ts: (Date.now() / 1000).toFixed(3),
    };
    if (g !== null) {
      fields.pending = String(g.pending);
      if (g.lag !== null) {
        fields.lag = String(g.lag);
        metrics.consumerLag.set(g.lag);
      }
      streamMetrics.pending(streams.applyResult, g.pending);
    }
    await main.hset(keys.p35Status, fields);
  };

  const windows = new WindowLoop({
    redis: main,
    intervalMs: config.P35_SNAPSHOT_INTERVAL_SEC * 1000,
    rules: {
      thresholds: {
        medium: config.P35_ALERT_THRESHOLD_MEDIUM,
        high: config.P35_ALERT_THRESHOLD_HIGH,
        critical: config.P35_ALERT_THRESHOLD_CRITICAL,
      },
      minTotal: config.P35_ALERT_MIN_TOTAL,
    },
    cooldownSec: config.P35_ALERT_COOLDOWN,
    metrics,
    logger: log,
    perSymbol: config.ENABLE_SYMBOL_BREAKDOWN,
    stuck: new StuckDetector({
      redis: main,
      rules: {
        minutes: config.P35_STUCK_MINUTES,
        minPlans: config.P35_STUCK_MIN_PLANS,
        allowlist: config.P35_ALLOWLIST,
      },
      cooldownSec: config.P35_ALERT_COOLDOWN,
      metrics,
      logger: log,
    }),
    dayRollups: new DayRollups({
      redis: main,
      retentionDays: config.P35_DAY_RETENTION_DAYS,
      writer: name,
      metrics,
      logger: log,
    }),
    afterTick: updateStatus,
  });

  const health = async (): Promise<HealthReport> =>
    healthReport({
      redis: { ok: await redisHealthy(main) },
      consumer: { ok: consumer.alive(), detail: `last loop ${Date.now() - consumer.lastLoopAt} ms ago` },
      windows: { ok: windows.alive(), detail: `${windows.completedTicks} recomputes` },
    });

  let server: MetricsServer;
  try {
    server = await startMetricsServer({
      host: config.METRICS_HOST,
      port: config.P35_METRICS_PORT,
      registry,
      health,
      ready: () => consumer.ready && windows.completedTicks > 0,
      logger: log,
      routes: statusPageRoutes({ redis: main, cooldownSec: config.P33_COOLDOWN_SEC }),
    });
  } catch (err) {
    await Promise.all([closeRedis(main), closeRedis(blocking)]);
    throw err;
  }

  heartbeat = startStatusHeartbeat(main, {
    service: SERVICE_NAME,
    mode: P35_MODE,
    venue: P35_VENUE,
    consumerName: name,
    metricsPort: server.port,
    version: opts.version,
    logger: log,
  });
  const nameHeartbeat = await claimConsumerName(main, { service: SERVICE_NAME, consumer: name, logger: log });
  consumer.start();
  windows.start();
  log.info(
    {
      consumer: name,
      group: groups.p35,
      stream: streams.applyResult,
      startId: config.P35_START_ID,
      batchSize: config.P35_BATCH_SIZE,
      snapshotIntervalSec: config.P35_SNAPSHOT_INTERVAL_SEC,
      symbolBreakdown: config.ENABLE_SYMBOL_BREAKDOWN,
      port: server.port,
    },
    "p35 decision intelligence started",
  );

  let stopping: Promise<void> | null = null;
  return {
    port: server.port,
    consumerName: name,
    health,
    stop() {
      stopping ??= (async () => {
        await consumer.stop();
        await windows.stop();
        await Promise.all([heartbeat?.stop(), nameHeartbeat.stop()]);
        await server.close();
        await Promise.all([closeRedis(main), closeRedis(blocking)]);
      })();
      return stopping;
    },
  };
}
