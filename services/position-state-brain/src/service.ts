import { type ApplyResult, decodeApplyResult, groups, streams } from "@quantum/contracts";
import { createExchange, type Exchange, type ExchangeObserver } from "@quantum/exchange";
import {
  createExchangeMetrics,
  createP33Metrics,
  createServiceRegistry,
  createStreamMetrics,
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
  StreamConsumer,
  startStatusHeartbeat,
} from "@quantum/runtime";
import type { Redis } from "ioredis";
import { type P33Config, SERVICE_NAME, venueCredentials } from "./config.js";
import { LedgerPath } from "./ledger-path.js";
import { PermitPath } from "./permit-path.js";
import { decodePlanEntry, type PlanEntry } from "./plan-entry.js";
import { defineLedgerScripts } from "./scripts.js";
import { SnapshotService } from "./snapshot-service.js";

export interface PositionStateBrainDeps {
  logger: Logger;
  version: string;
  /** Build the venue; default: createExchange for P33_EXCHANGE (paper on the service's Redis). */
  exchange?: (redis: Redis, observer: ExchangeObserver) => Exchange | Promise<Exchange>;
}

export interface PositionStateBrain {
  /** Port the metrics server listens on. */
  readonly metricsPort: number;
  readonly consumerName: string;
  /** Stop reading, finish in-flight batches (ACK), stop the loops, close everything. */
  stop(): Promise<void>;
}

/** Plans per XREADGROUP; one pipelined read and one pipelined write per batch. */
const PLAN_BATCH_SIZE = 100;
const LEDGER_BATCH_SIZE = 50;
/** How long startup waits for Redis before starting the loops anyway. */
const STARTUP_REDIS_WAIT_MS = 5000;

function defaultExchange(cfg: P33Config): (redis: Redis, observer: ExchangeObserver) => Promise<Exchange> {
  return (redis, observer) => {
    const creds = venueCredentials(cfg);
    return createExchange(cfg.P33_EXCHANGE, {
      redis,
      observer,
      ...(creds.apiKey !== undefined ? { apiKey: creds.apiKey } : {}),
      ...(creds.apiSecret !== undefined ? { apiSecret: creds.apiSecret } : {}),
      ...(cfg.BINANCE_BASE_URL !== undefined ? { baseUrl: cfg.BINANCE_BASE_URL } : {}),
      allowLoopback: cfg.APPLY_ALLOW_LOOPBACK_EXCHANGE,
      rateLimitSharePct: cfg.EXCHANGE_RATE_LIMIT_SHARE_PCT,
    });
  };
}

/**
 * Wire P3.3: Redis connections, the exchange, the snapshot loop, the permit consumer (group p33 on
 * apply.plan), the ledger consumer (group p33_ledger on apply.result), metrics server and status heartbeat.
 */
export async function startPositionStateBrain(
  cfg: P33Config,
  deps: PositionStateBrainDeps,
): Promise<PositionStateBrain> {
  const log = deps.logger;
  const venue = cfg.P33_EXCHANGE;
  const allowlist = [...new Set(cfg.P33_ALLOWLIST)];
  const consumer = consumerName(SERVICE_NAME, cfg.P33_CONSUMER_NAME);

  const main = createRedis(cfg, { name: SERVICE_NAME, logger: log });
  const planBlocking = createRedis(cfg, { name: `${SERVICE_NAME}-plans`, role: "blocking", logger: log });
  const ledgerBlocking = createRedis(cfg, { name: `${SERVICE_NAME}-ledger`, role: "blocking", logger: log });
  const connections = [main, planBlocking, ledgerBlocking];
  defineLedgerScripts(main);

  const registry = createServiceRegistry({ service: SERVICE_NAME, mode: venue, version: deps.version });
  const metrics = createP33Metrics(registry, { symbols: allowlist });
  const streamMetrics = createStreamMetrics(registry, SERVICE_NAME);
  const exchange = await (deps.exchange ?? defaultExchange(cfg))(
    main,
    createExchangeMetrics(registry, venue),
  );

  const snapshots = new SnapshotService({
    redis: main,
    exchange,
    symbols: allowlist,
    pollSec: cfg.P33_POLL_SEC,
    tolerancePct: cfg.P33_QTY_TOLERANCE_PCT,
    metrics,
    logger: log,
  });
  const permits = new PermitPath({
    redis: main,
    snapshots,
    allowlist,
    staleThresholdSec: cfg.P33_STALE_THRESHOLD_SEC,
    cooldownSec: cfg.P33_COOLDOWN_SEC,
    tolerancePct: cfg.P33_QTY_TOLERANCE_PCT,
    permitTtlSec: cfg.P33_PERMIT_TTL,
    venue,
    metrics,
    streamMetrics,
    service: SERVICE_NAME,
    logger: log,
  });
  const ledger = new LedgerPath({ redis: main, allowlist, metrics, logger: log });

  const janitorIntervalMs = Math.max(1000, Math.min(cfg.P33_CLAIM_IDLE_MS, 30_000));
  const planConsumer = new StreamConsumer<PlanEntry>({
    redis: main,
    blocking: planBlocking,
    stream: streams.applyPlan,
    group: groups.p33,
    consumer,
    service: SERVICE_NAME,
    batchSize: PLAN_BATCH_SIZE,
    blockMs: 1000,
    claimIdleMs: cfg.P33_CLAIM_IDLE_MS,
    janitorIntervalMs,
    decode: (fields) => decodePlanEntry(fields),
    handleBatch: permits.handleBatch,
    logger: log,
    metrics: streamMetrics,
  });
  const ledgerConsumer = new StreamConsumer<ApplyResult>({
    redis: main,
    blocking: ledgerBlocking,
    stream: streams.applyResult,
    group: groups.p33Ledger,
    consumer,
    service: SERVICE_NAME,
    batchSize: LEDGER_BATCH_SIZE,
    blockMs: 1000,
    claimIdleMs: cfg.P33_CLAIM_IDLE_MS,
    janitorIntervalMs,
    decode: (fields) => decodeApplyResult(fields),
    handleBatch: ledger.handleBatch,
    logger: log,
    metrics: streamMetrics,
  });

  let server: MetricsServer;
  try {
    server = await startMetricsServer({
      host: cfg.METRICS_HOST,
      port: cfg.P33_METRICS_PORT,
      registry,
      logger: log,
      health: async () => {
        const redisOk = await redisHealthy(main);
        streamMetrics.redisUp(redisOk);
        return healthReport({
          redis: { ok: redisOk },
          plan_consumer: {
            ok: planConsumer.alive(),
            detail: `last loop ${Date.now() - planConsumer.lastLoopAt} ms ago`,
          },
          ledger_consumer: {
            ok: ledgerConsumer.alive(),
            detail: `last loop ${Date.now() - ledgerConsumer.lastLoopAt} ms ago`,
          },
          snapshot_loop: { ok: snapshots.alive() },
        });
      },
      ready: () => planConsumer.ready && ledgerConsumer.ready && snapshots.firstAttemptDone,
    });
  } catch (err) {
    await Promise.all(connections.map((c) => closeRedis(c)));
    throw err;
  }

  // Loops start once Redis answers (or after a bounded wait; they retry on their own while it is down).
  const connected = await Promise.all(connections.map((c) => redisReady(c, STARTUP_REDIS_WAIT_MS)));
  if (connected.includes(false))
    log.warn({ waitedMs: STARTUP_REDIS_WAIT_MS }, "redis not reachable yet, retrying");
  const nameHeartbeat = await claimConsumerName(main, { service: SERVICE_NAME, consumer, logger: log });
  snapshots.start();
  planConsumer.start();
  ledgerConsumer.start();
  const heartbeat = startStatusHeartbeat(main, {
    service: SERVICE_NAME,
    mode: venue,
    venue,
    consumerName: consumer,
    metricsPort: server.port,
    version: deps.version,
    // quantumctl judges snapshot age (ledger adopt) and cooldowns (positions) by these.
    extra: {
      stale_threshold_sec: String(cfg.P33_STALE_THRESHOLD_SEC),
      cooldown_sec: String(cfg.P33_COOLDOWN_SEC),
    },
    logger: log,
  });
  log.info(
    { venue, allowlist, consumer, metricsPort: server.port, permitTtlSec: cfg.P33_PERMIT_TTL },
    "position state brain started in event-driven mode",
  );

  let stopping: Promise<void> | null = null;
  return {
    metricsPort: server.port,
    consumerName: consumer,
    stop() {
      stopping ??= (async () => {
        await Promise.all([planConsumer.stop(), ledgerConsumer.stop()]);
        await snapshots.stop();
        await Promise.all([heartbeat.stop(), nameHeartbeat.stop()]);
        await server.close();
        await Promise.all(connections.map((c) => closeRedis(c)));
      })();
      return stopping;
    },
  };
}
