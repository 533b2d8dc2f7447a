import { BINANCE_USDM_LIMITS, createExchange, type Exchange } from "@quantum/exchange";
import {
  createApplyMetrics,
  createExchangeMetrics,
  createServiceRegistry,
  createStreamMetrics,
  healthReport,
  startMetricsServer,
} from "@quantum/metrics";
import { PermitWaiter, registerApplyScripts, registerPermitScripts } from "@quantum/permits";
import type { Logger } from "@quantum/runtime";
import {
  claimConsumerName,
  closeRedis,
  consumerName,
  createRedis,
  redisHealthy,
  redisReady,
  type StatusHeartbeat,
  sleep,
  startStatusHeartbeat,
} from "@quantum/runtime";
import { type ApplyConfig, type CrashPoint, SERVICE_NAME as SERVICE } from "./config.js";
import { Executor } from "./execution/executor.js";
import { Recovery } from "./execution/recovery.js";
import { ExternalChangeWatcher } from "./external-change-watcher.js";
import { Intake } from "./intake.js";
import { ProposalHandler } from "./proposal-handler.js";
import { ResultPublisher } from "./result-publisher.js";
import { SymbolLocks } from "./symbol-locks.js";
import { SymbolQueue } from "./symbol-queue.js";

export interface StartApplyServiceOptions {
  cfg: ApplyConfig;
  log: Logger;
  /** Test-only crash hook (main.ts arms it from APPLY_TEST_CRASH_AT; a no-op otherwise). */
  crash: (point: CrashPoint) => void;
  version: string;
}

export interface ApplyService {
  readonly metricsPort: number;
  readonly consumer: string;
  /** Resolves once startup recovery is done and intake runs (or shutdown began first). */
  readonly started: Promise<void>;
  /** Stop intake, let plans in flight finish (waits are cut after 7 s), close everything. */
  stop(): Promise<void>;
}

/** Permit waits still running this long after SIGTERM are aborted (their plans stay open). */
const DRAIN_MS = 7000;

/**
 * Wire the Apply Layer: a live exchange is created (host allowlist, credentials) before any connection is
 * opened; then Redis, metrics server, startup recovery, and only then intake.
 */
export async function startApplyService(o: StartApplyServiceOptions): Promise<ApplyService> {
  const { cfg, log } = o;
  const registry = createServiceRegistry({ service: SERVICE, mode: cfg.mode, version: o.version });
  const metrics = createApplyMetrics(registry);
  const streamMetrics = createStreamMetrics(registry, SERVICE);
  const observer = cfg.venue !== null ? createExchangeMetrics(registry, cfg.venue) : undefined;
  const observerOpt = observer !== undefined ? { observer } : {};
  metrics.killSwitchActive.set(cfg.envKillSwitch ? 1 : 0);

  let exchange: Exchange | null = null;
  if (cfg.venue === "testnet" || cfg.venue === "production") {
    exchange = await createExchange(cfg.venue, {
      ...(cfg.credentials !== null
        ? { apiKey: cfg.credentials.apiKey, apiSecret: cfg.credentials.apiSecret }
        : {}),
      ...(cfg.baseUrl !== undefined ? { baseUrl: cfg.baseUrl } : {}),
      allowLoopback: cfg.allowLoopbackExchange,
      rateLimitSharePct: cfg.rateLimitSharePct,
      ...(cfg.testOrderLimit !== null
        ? { rateLimits: { ...BINANCE_USDM_LIMITS, orders10s: cfg.testOrderLimit } }
        : {}),
      ...observerOpt,
    });
  }

  const redis = createRedis(cfg.redis, { name: SERVICE, logger: log });
  const blocking = createRedis(cfg.redis, { name: SERVICE, role: "blocking", logger: log });
  if (cfg.venue === "paper") exchange = await createExchange("paper", { redis, ...observerOpt });
  registerPermitScripts(redis);
  registerApplyScripts(redis);

  const consumer = consumerName(SERVICE, cfg.consumerName);
  const nameHeartbeat = await claimConsumerName(redis, { service: SERVICE, consumer, logger: log });
  const shutdown = new AbortController();
  const drain = new AbortController();
  const waiter = new PermitWaiter(redis, { logger: log.child({ component: "permit-waiter" }) });
  const queue = new SymbolQueue((err, planId) => log.error({ err, planId }, "plan task failed"), {
    capacity: cfg.maxQueuedPlans,
    onDepth: (depth) => metrics.planQueueDepth.set(depth),
  });
  metrics.planQueueCapacity.set(cfg.maxQueuedPlans);
  const locks = new SymbolLocks(redis, consumer, log.child({ component: "symbol-lock" }));
  const results = new ResultPublisher({
    redis,
    mode: cfg.mode,
    dedupeTtlSec: cfg.dedupeTtlSec,
    execRecordTtlSec: cfg.execRecordTtlSec,
    streamMaxLen: cfg.streamMaxLen,
    metrics,
    log: log.child({ component: "results" }),
    signal: drain.signal,
  });
  const executor = new Executor({
    redis,
    waiter,
    exchange,
    cfg,
    metrics,
    results,
    queue,
    locks,
    log: log.child({ component: "executor" }),
    crash: o.crash,
    signal: drain.signal,
  });
  const recovery = new Recovery({
    redis,
    cfg,
    results,
    executor,
    queue,
    locks,
    log: log.child({ component: "recovery" }),
    signal: drain.signal,
  });
  const handler = new ProposalHandler({
    redis,
    cfg,
    metrics,
    log: log.child({ component: "planner" }),
    execute: (plan) => executor.submit(plan),
  });
  const intake = new Intake({
    redis,
    blocking,
    cfg,
    consumer,
    handler,
    metrics,
    streamMetrics,
    log,
    queue,
    keyspace: waiter,
  });
  const externalChanges = new ExternalChangeWatcher({ redis, log: log.child({ component: "audit" }) });

  let phase: "connecting" | "recovering" | "running" | "stopping" = "connecting";
  const server = await startMetricsServer({
    host: cfg.metricsHost,
    port: cfg.metricsPort,
    registry,
    logger: log,
    health: async () => {
      const redisOk = await redisHealthy(redis);
      const loops =
        phase === "running"
          ? { ok: intake.alive(), detail: `plans in flight ${queue.size}` }
          : { ok: phase === "recovering", detail: phase };
      return healthReport({ redis: { ok: redisOk }, loops });
    },
    ready: () => phase === "running" && redis.status === "ready",
  });

  let heartbeat: StatusHeartbeat | null = null;
  const started = (async () => {
    while (!shutdown.signal.aborted && !(await redisReady(redis, 5000))) {
      log.warn({}, "waiting for redis before startup recovery");
    }
    heartbeat = startStatusHeartbeat(redis, {
      service: SERVICE,
      mode: cfg.mode,
      venue: cfg.venue ?? "none",
      consumerName: consumer,
      metricsPort: server.port,
      version: o.version,
      extra: { allowlist: [...cfg.allowlist].join(",") },
      logger: log,
    });
    if (!shutdown.signal.aborted) await externalChanges.start();
    phase = "recovering";
    while (!shutdown.signal.aborted) {
      try {
        await recovery.runStartup();
        break;
      } catch (err) {
        log.warn({ err }, "startup recovery failed, retrying");
        await sleep(1000);
      }
    }
    if (shutdown.signal.aborted) return;
    intake.start();
    recovery.startPeriodic(cfg.recoveryIntervalMs);
    phase = "running";
    log.info({ consumer, symbols: cfg.symbols.length }, "apply layer running");
  })();

  return {
    metricsPort: server.port,
    consumer,
    started,
    async stop() {
      const wasRunning = phase === "running";
      phase = "stopping";
      shutdown.abort();
      if (wasRunning) await intake.stop();
      await recovery.stop();
      const cut = setTimeout(() => drain.abort(), DRAIN_MS);
      cut.unref();
      await queue.stop();
      clearTimeout(cut);
      drain.abort();
      await started;
      await externalChanges.stop();
      await Promise.all([heartbeat?.stop(), nameHeartbeat.stop()]);
      await waiter.close();
      await server.close();
      await closeRedis(blocking);
      await closeRedis(redis);
    },
  };
}
