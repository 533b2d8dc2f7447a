import { errorText, groups, keys, streams } from "@quantum/contracts";
import { createP35Metrics, createStreamMetrics } from "@quantum/metrics";
import {
  createServiceHost,
  type Logger,
  loadScripts,
  type ServiceHost,
  StreamConsumer,
  type StreamItem,
} from "@quantum/runtime";
import type { Redis } from "ioredis";
import { applyBatch } from "./batch.js";
import { type P35Config, SERVICE_NAME } from "./config.js";
import { DayRollups } from "./day-rollups.js";
import { type NormalizedResult, normalizeResult } from "./normalize.js";
import { statusPageRoutes } from "./page/status-page.js";
import { SERVICE_SCRIPTS } from "./scripts.js";
import { StuckDetector } from "./stuck-detector.js";
import { WindowLoop } from "./window-loop.js";

/** What P3.5 reports as its mode/venue in quantum_service_info and its status key (it never trades). */
export const P35_MODE = "analytics";
export const P35_VENUE = "none";

export interface StartDecisionIntelligenceOptions {
  config: P35Config;
  logger: Logger;
  version: string;
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
    // applyBatch.lua acknowledges the entries it counts, in the same atomic step (see its header).
    handlerAcks: true,
    logger: log,
    metrics: streamMetrics,
  });
}

/**
 * Start P3.5 Decision Intelligence on the service host: consumer group `p35_decision_intel` on apply.result →
 * minute buckets (exactly once); every P35_SNAPSHOT_INTERVAL_SEC the windows (overall and per symbol), alerts,
 * the stuck check and the daily rollup; its own status hash; the status page on the metrics listener.
 * Without Redis the host serves a red /health and starts the loops once Redis answers. stop() stops
 * reading, finishes and acknowledges the batch in flight and stops the loops before the host closes the rest.
 */
export async function startDecisionIntelligence(o: StartDecisionIntelligenceOptions): Promise<ServiceHost> {
  const { config, logger: log } = o;
  const host = createServiceHost({
    name: SERVICE_NAME,
    mode: P35_MODE,
    venue: P35_VENUE,
    version: o.version,
    logger: log,
  });
  const metrics = createP35Metrics(host.registry);
  const streamMetrics = createStreamMetrics(host.registry, SERVICE_NAME);

  return host.start({
    redis: config,
    consumerName: config.P35_CONSUMER_NAME,
    metricsHost: config.METRICS_HOST,
    metricsPort: config.P35_METRICS_PORT,
    blocking: [""],
    scripts: (redis) => loadScripts(redis, SERVICE_SCRIPTS),
    parts: (ctx) => {
      const { redis: main, consumer: name } = ctx;
      const startedAt = (Date.now() / 1000).toFixed(3);
      const consumer = buildConsumer(
        config,
        { main, blocking: ctx.blocking(""), name, log, metrics },
        streamMetrics,
      );
      const updateStatus = async (): Promise<void> => {
        const g = await consumer.groupInfo().catch((err: unknown) => {
          // The group appears with the consumer's first iteration; until then there is nothing to report.
          if (errorText(err).includes("does not exist") || errorText(err).includes("no such key"))
            return null;
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

      return {
        checks: () => ({
          consumer: { ok: consumer.alive(), detail: `last loop ${Date.now() - consumer.lastLoopAt} ms ago` },
          windows: { ok: windows.alive(), detail: `${windows.completedTicks} recomputes` },
        }),
        ready: () => consumer.ready && windows.completedTicks > 0,
        routes: statusPageRoutes({ redis: main, cooldownSec: config.P33_COOLDOWN_SEC }),
        start() {
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
              port: ctx.metricsPort,
            },
            "p35 decision intelligence started",
          );
        },
        async stop() {
          await consumer.stop();
          await windows.stop();
        },
      };
    },
  });
}
