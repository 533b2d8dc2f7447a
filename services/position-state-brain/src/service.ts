import { type ApplyResult, decodeApplyResult, groups, streams } from "@quantum/contracts";
import { createExchange, type Exchange, type ExchangeObserver } from "@quantum/exchange";
import { createExchangeMetrics, createP33Metrics, createStreamMetrics } from "@quantum/metrics";
import {
  createServiceHost,
  type Logger,
  loadScripts,
  type ServiceHost,
  StreamConsumer,
} from "@quantum/runtime";
import type { Redis } from "ioredis";
import { type P33Config, SERVICE_NAME, venueCredentials } from "./config.js";
import { LedgerPath } from "./ledger-path.js";
import { PermitPath } from "./permit-path.js";
import { decodePlanEntry, type PlanEntry } from "./plan-entry.js";
import { SERVICE_SCRIPTS } from "./scripts.js";
import { SnapshotService } from "./snapshot-service.js";

export interface StartPositionStateBrainOptions {
  config: P33Config;
  logger: Logger;
  version: string;
  /** Build the venue; default: createExchange for P33_EXCHANGE (paper on the service's Redis). */
  exchange?: (redis: Redis, observer: ExchangeObserver) => Exchange | Promise<Exchange>;
}

/**
 * Plans per XREADGROUP; one pipelined read and one pipelined write per batch. Large enough that a burst of
 * one plan per symbol (a crash day across a 500-symbol allowlist) is answered in one batch.
 */
const PLAN_BATCH_SIZE = 500;
const LEDGER_BATCH_SIZE = 50;

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
 * Wire P3.3 on the service host: the exchange, the snapshot loop, the permit consumer (group p33 on
 * apply.plan) and the ledger consumer (group p33_ledger on apply.result), each consumer on its own blocking
 * connection. stop() stops reading, finishes in-flight batches (ACK) and stops the loops before the host
 * closes the rest.
 */
export async function startPositionStateBrain(o: StartPositionStateBrainOptions): Promise<ServiceHost> {
  const { config: cfg, logger: log } = o;
  const venue = cfg.P33_EXCHANGE;
  const allowlist = [...new Set(cfg.P33_ALLOWLIST)];
  const host = createServiceHost({ name: SERVICE_NAME, mode: venue, venue, version: o.version, logger: log });
  const metrics = createP33Metrics(host.registry, { symbols: allowlist });
  const streamMetrics = createStreamMetrics(host.registry, SERVICE_NAME);

  return host.start({
    redis: cfg,
    consumerName: cfg.P33_CONSUMER_NAME,
    metricsHost: cfg.METRICS_HOST,
    metricsPort: cfg.P33_METRICS_PORT,
    blocking: ["plans", "ledger"],
    // quantumctl judges snapshot age (ledger adopt) and cooldowns (positions) by these.
    statusExtra: {
      stale_threshold_sec: String(cfg.P33_STALE_THRESHOLD_SEC),
      cooldown_sec: String(cfg.P33_COOLDOWN_SEC),
    },
    scripts: (redis) => loadScripts(redis, SERVICE_SCRIPTS),
    parts: async (ctx) => {
      const { redis: main, blocking, consumer } = ctx;
      const exchange = await (o.exchange ?? defaultExchange(cfg))(
        main,
        createExchangeMetrics(host.registry, venue),
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
        group: groups.p33,
        venue,
        metrics,
        streamMetrics,
        service: SERVICE_NAME,
        logger: log,
      });
      permits.warmUp();
      const ledger = new LedgerPath({ redis: main, allowlist, metrics, logger: log });

      const janitorIntervalMs = Math.max(1000, Math.min(cfg.P33_CLAIM_IDLE_MS, 30_000));
      const planConsumer = new StreamConsumer<PlanEntry>({
        redis: main,
        blocking: blocking("plans"),
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
        // the permit write acknowledges the entries it is done with, in the same command (writePermits.lua)
        handlerAcks: true,
        logger: log,
        metrics: streamMetrics,
      });
      const ledgerConsumer = new StreamConsumer<ApplyResult>({
        redis: main,
        blocking: blocking("ledger"),
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

      return {
        checks: (redisOk) => {
          streamMetrics.redisUp(redisOk);
          return {
            plan_consumer: {
              ok: planConsumer.alive(),
              detail: `last loop ${Date.now() - planConsumer.lastLoopAt} ms ago`,
            },
            ledger_consumer: {
              ok: ledgerConsumer.alive(),
              detail: `last loop ${Date.now() - ledgerConsumer.lastLoopAt} ms ago`,
            },
            snapshot_loop: { ok: snapshots.alive() },
          };
        },
        ready: () => planConsumer.ready && ledgerConsumer.ready && snapshots.firstAttemptDone,
        start() {
          snapshots.start();
          planConsumer.start();
          ledgerConsumer.start();
          log.info(
            { venue, allowlist, consumer, metricsPort: ctx.metricsPort, permitTtlSec: cfg.P33_PERMIT_TTL },
            "position state brain started in event-driven mode",
          );
        },
        async stop() {
          await Promise.all([planConsumer.stop(), ledgerConsumer.stop()]);
          await snapshots.stop();
        },
      };
    },
  });
}
