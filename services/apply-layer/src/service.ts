import { BINANCE_USDM_LIMITS, createExchange, type Exchange } from "@quantum/exchange";
import { createApplyMetrics, createExchangeMetrics, createStreamMetrics } from "@quantum/metrics";
import { PermitWaiter } from "@quantum/permits";
import { createServiceHost, type Logger, loadScripts, type ServiceHost, sleep } from "@quantum/runtime";
import { type ApplyConfig, type CrashPoint, SERVICE_NAME as SERVICE } from "./config.js";
import { Executor } from "./execution/executor.js";
import { Recovery } from "./execution/recovery.js";
import { ExternalChangeWatcher } from "./external-change-watcher.js";
import { Intake } from "./intake.js";
import { ProposalHandler } from "./proposal-handler.js";
import { ResultPublisher } from "./result-publisher.js";
import { SERVICE_SCRIPTS } from "./scripts.js";
import { SymbolLocks } from "./symbol-locks.js";
import { SymbolQueue } from "./symbol-queue.js";

export interface StartApplyServiceOptions {
  config: ApplyConfig;
  logger: Logger;
  version: string;
  /** Test-only crash hook (main.ts arms it from APPLY_TEST_CRASH_AT; a no-op otherwise). */
  crash: (point: CrashPoint) => void;
}

/** Permit waits still running this long after SIGTERM are aborted (their plans stay open). */
const DRAIN_MS = 7000;

/**
 * Wire the Apply Layer on the service host: a live exchange is created (host allowlist, credentials) before
 * any connection is opened; the host then opens Redis and serves metrics, and once Redis answers and the
 * consumer name is held the parts run startup recovery, and only then intake. `started` resolves when intake
 * runs; stop() stops intake and lets plans in flight finish (waits are cut after 7 s).
 */
export async function startApplyService(o: StartApplyServiceOptions): Promise<ServiceHost> {
  const { config: cfg, logger: log } = o;
  const host = createServiceHost({
    name: SERVICE,
    mode: cfg.mode,
    venue: cfg.venue ?? "none",
    version: o.version,
    logger: log,
  });
  const metrics = createApplyMetrics(host.registry);
  const streamMetrics = createStreamMetrics(host.registry, SERVICE);
  const observer = cfg.venue !== null ? createExchangeMetrics(host.registry, cfg.venue) : undefined;
  const observerOpt = observer !== undefined ? { observer } : {};
  metrics.killSwitchActive.set(cfg.envKillSwitch ? 1 : 0);

  let liveExchange: Exchange | null = null;
  if (cfg.venue === "testnet" || cfg.venue === "production") {
    liveExchange = await createExchange(cfg.venue, {
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

  return host.start({
    redis: cfg.redis,
    consumerName: cfg.consumerName,
    metricsHost: cfg.metricsHost,
    metricsPort: cfg.metricsPort,
    blocking: [""],
    statusExtra: { allowlist: [...cfg.allowlist].join(",") },
    scripts: (redis) => loadScripts(redis, SERVICE_SCRIPTS),
    parts: async ({ redis, blocking, consumer, signal }) => {
      const exchange =
        cfg.venue === "paper" ? await createExchange("paper", { redis, ...observerOpt }) : liveExchange;
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
        blocking: blocking(""),
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
      let startup: Promise<void> = Promise.resolve();
      const runStartup = async (): Promise<void> => {
        if (!signal.aborted) await externalChanges.start();
        phase = "recovering";
        while (!signal.aborted) {
          try {
            await recovery.runStartup();
            break;
          } catch (err) {
            log.warn({ err }, "startup recovery failed, retrying");
            await sleep(1000);
          }
        }
        if (signal.aborted) return;
        intake.start();
        recovery.startPeriodic(cfg.recoveryIntervalMs);
        phase = "running";
        log.info({ consumer, symbols: cfg.symbols.length }, "apply layer running");
      };
      return {
        checks: () => ({
          loops:
            phase === "running"
              ? { ok: intake.alive(), detail: `plans in flight ${queue.size}` }
              : { ok: phase === "recovering", detail: phase },
        }),
        ready: () => phase === "running" && redis.status === "ready",
        start() {
          startup = runStartup();
          return startup;
        },
        async stop() {
          const wasRunning = phase === "running";
          phase = "stopping";
          if (wasRunning) await intake.stop();
          await recovery.stop();
          const cut = setTimeout(() => drain.abort(), DRAIN_MS);
          cut.unref();
          await queue.stop();
          clearTimeout(cut);
          drain.abort();
          await startup;
          await externalChanges.stop();
          await waiter.close();
        },
      };
    },
  });
}
