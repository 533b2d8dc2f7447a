import { errorText } from "@quantum/contracts";
import {
  createServiceRegistry,
  type HealthCheck,
  type HealthReport,
  healthReport,
  type MetricsServer,
  type RouteHandler,
  startMetricsServer,
} from "@quantum/metrics";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { type ConsumerHeartbeat, claimConsumerName } from "./consumer-heartbeat.js";
import { loadScripts } from "./lua-scripts.js";
import { closeRedis, createRedis, type RedisConnectionConfig, redisHealthy, redisReady } from "./redis.js";
import { RUNTIME_SCRIPTS } from "./runtime-scripts.js";
import { onShutdown, type ShutdownControl, type ShutdownOptions } from "./shutdown.js";
import { type StatusHeartbeat, startStatusHeartbeat } from "./status.js";
import { consumerName } from "./streams.js";

/** The prom-client registry of one service (its metrics are defined on it). */
type Registry = ReturnType<typeof createServiceRegistry>;

/** Who a service is: the labels of its registry, its status hash and its log lines. */
export interface ServiceIdentityOptions {
  /** Service name: metrics `service` label, status key, connection names, consumer-name heartbeat. */
  name: string;
  /** `mode` of quantum_service_info and of the status hash. */
  mode: string;
  /** `venue` of the status hash. */
  venue: string;
  version: string;
  logger: Logger;
}

/** What the host opens and serves. */
export interface ServiceHostStartOptions {
  redis: RedisConnectionConfig;
  /** The configured consumer name (or undefined: `<service>-<hostname>`). */
  consumerName: string | undefined;
  /** Bind address and port of /metrics /health /ready (0 picks a free port). */
  metricsHost: string;
  metricsPort: number;
  /**
   * Blocking connections to open besides the command connection, by label (one per XREADGROUP BLOCK loop).
   * The label `""` names the connection after the service alone (`<service>:blocking`), any other label
   * `<service>-<label>:blocking`.
   */
  blocking?: readonly string[];
  /** Service-specific fields of the status hash (written with the common ones on every beat). */
  statusExtra?: Readonly<Record<string, string>>;
  /**
   * Register every Lua script the service runs on the command connection. Runs once, right after the
   * connections are created and before the parts are built or anything is served; a throw (a script file
   * missing) refuses the start: the host closes what it opened and rethrows.
   */
  scripts?: (redis: Redis) => void | Promise<void>;
  /** Build the service's own parts on the host's connections and registry. */
  parts: (ctx: ServiceHostContext) => ServiceParts | Promise<ServiceParts>;
}

/** What the host hands to the service's parts. */
export interface ServiceHostContext {
  readonly registry: Registry;
  /** The command connection (fails fast while Redis is down). */
  readonly redis: Redis;
  /** The blocking connection opened for `label` (see `blocking`). */
  blocking(label: string): Redis;
  /** The resolved consumer name this instance runs (and holds the heartbeat of) once started. */
  readonly consumer: string;
  readonly logger: Logger;
  readonly metricsPort: number;
  /** Aborted when stop() begins: long startup work (recovery retries) ends early on it. */
  readonly signal: AbortSignal;
}

/** A service's own parts: loops, consumers, handlers, and how to start and stop them. */
export interface ServiceParts {
  /** The service's /health checks; the host puts `redis` (a PING) first and passes its result. */
  checks(redisOk: boolean): Record<string, HealthCheck> | Promise<Record<string, HealthCheck>>;
  /** /ready; only asked once start() has been called. */
  ready(): boolean;
  /** More read-only pages on the metrics listener (a status page). */
  routes?: Readonly<Record<string, RouteHandler>>;
  /**
   * Start intake and loops. Called once Redis answers and the consumer name is held (the status hash is
   * written right after); may take long (startup recovery) and should end early when `ctx.signal` is aborted.
   */
  start(): void | Promise<void>;
  /** Stop intake and let work in flight finish (left resumable); the host then closes the rest. */
  stop(): Promise<void>;
}

/** A running service: the same shape for every service. */
export interface ServiceHost {
  readonly name: string;
  /** Port of /metrics /health /ready. */
  readonly port: number;
  readonly consumer: string;
  readonly registry: Registry;
  /**
   * Resolves once the parts have started (or stop() began first); rejects when the start is refused
   * (ConsumerNameInUseError: another live instance holds the consumer name).
   */
  readonly started: Promise<void>;
  health(): Promise<HealthReport>;
  /**
   * Stop in order: stop intake and drain (the parts' stop), release the status and consumer-name
   * heartbeats, close the metrics server, quit Redis. Idempotent.
   */
  stop(): Promise<void>;
}

/** How often the wait for Redis at startup says it is still waiting. */
const REDIS_WAIT_LOG_MS = 5000;

async function allReady(connections: readonly Redis[], timeoutMs: number): Promise<boolean> {
  const up = await Promise.all(connections.map((c) => redisReady(c, timeoutMs)));
  return !up.includes(false);
}

function blockingName(service: string, label: string): string {
  return label === "" ? service : `${service}-${label}`;
}

/**
 * The shared skeleton of a service process. `createServiceHost` only builds the metrics registry (nothing is
 * opened, so work that must come before any connection can use it); `start` opens the Redis connections,
 * registers the scripts, builds the parts, serves /metrics /health /ready, and then in the background waits
 * for Redis, claims the consumer name, starts the parts and the status heartbeat.
 */
export function createServiceHost(identity: ServiceIdentityOptions): {
  readonly registry: Registry;
  start(o: ServiceHostStartOptions): Promise<ServiceHost>;
} {
  const registry = createServiceRegistry({
    service: identity.name,
    mode: identity.mode,
    version: identity.version,
  });
  return { registry, start: (o) => startHost(identity, registry, o) };
}

async function startHost(
  id: ServiceIdentityOptions,
  registry: Registry,
  o: ServiceHostStartOptions,
): Promise<ServiceHost> {
  const log = id.logger;
  const redis = createRedis(o.redis, { name: id.name, logger: log });
  const blocking = new Map<string, Redis>();
  for (const label of o.blocking ?? []) {
    blocking.set(
      label,
      createRedis(o.redis, { name: blockingName(id.name, label), role: "blocking", logger: log }),
    );
  }
  const connections = [redis, ...blocking.values()];
  const consumer = consumerName(id.name, o.consumerName);
  const shutdown = new AbortController();

  let parts: ServiceParts;
  let server: MetricsServer;
  let partsStarted = false;
  let port = 0;
  const health = async (): Promise<HealthReport> => {
    const redisOk = await redisHealthy(redis);
    return healthReport({ redis: { ok: redisOk }, ...(await parts.checks(redisOk)) });
  };
  try {
    // The host's own scripts (the consumer-name claim) first, then the service's table.
    loadScripts(redis, [RUNTIME_SCRIPTS]);
    await o.scripts?.(redis);
    parts = await o.parts({
      registry,
      redis,
      blocking(label) {
        const c = blocking.get(label);
        if (c === undefined) throw new Error(`${id.name}: no blocking connection "${label}" was opened`);
        return c;
      },
      consumer,
      logger: log,
      get metricsPort() {
        return port;
      },
      signal: shutdown.signal,
    });
    server = await startMetricsServer({
      host: o.metricsHost,
      port: o.metricsPort,
      registry,
      logger: log,
      health,
      ready: () => partsStarted && parts.ready(),
      ...(parts.routes !== undefined ? { routes: parts.routes } : {}),
    });
    port = server.port;
  } catch (err) {
    await Promise.all(connections.map((c) => closeRedis(c)));
    throw err;
  }
  const built = parts;
  const listening = server;
  const stopRequested = new Promise<false>((resolve) =>
    shutdown.signal.addEventListener("abort", () => resolve(false), { once: true }),
  );

  let nameHeartbeat: ConsumerHeartbeat | null = null;
  let statusHeartbeat: StatusHeartbeat | null = null;
  const started = (async () => {
    // Every connection, blocking ones too: a reader's first read on a connection still connecting fails
    // and backs off, so a service would report ready before its readers block on their streams.
    while (!(await Promise.race([allReady(connections, REDIS_WAIT_LOG_MS), stopRequested]))) {
      if (shutdown.signal.aborted) return;
      log.warn({}, "waiting for redis before starting");
    }
    try {
      nameHeartbeat = await claimConsumerName(redis, {
        service: id.name,
        consumer,
        logger: log,
        signal: shutdown.signal,
      });
    } catch (err) {
      if (shutdown.signal.aborted) return;
      throw err;
    }
    if (shutdown.signal.aborted) return;
    partsStarted = true;
    // The parts' first commands go out before the status hash's first write (their loops start at once).
    const starting = built.start();
    statusHeartbeat = startStatusHeartbeat(redis, {
      service: id.name,
      mode: id.mode,
      venue: id.venue,
      consumerName: consumer,
      metricsPort: listening.port,
      version: id.version,
      ...(o.statusExtra !== undefined ? { extra: o.statusExtra } : {}),
      logger: log,
    });
    await starting;
  })();
  // A refused start is reported through `started`; stop() must not throw it a second time.
  const settled = started.catch(() => undefined);

  let stopping: Promise<void> | null = null;
  return {
    name: id.name,
    port: listening.port,
    consumer,
    registry,
    started,
    health,
    stop() {
      stopping ??= (async () => {
        shutdown.abort();
        if (partsStarted) await built.stop();
        await settled;
        await Promise.all([statusHeartbeat?.stop(), nameHeartbeat?.stop()]);
        await listening.close();
        await Promise.all(connections.map((c) => closeRedis(c)));
      })();
      return stopping;
    },
  };
}

/**
 * The last step of a service's main.ts: stop in order on SIGTERM/SIGINT (exit 0, or 1 when a step failed or
 * the timeout hit); when the start is refused (another live instance holds the consumer name) say so on
 * stderr and in the log, close what was opened and exit 1. `done` resolves with the exit code.
 */
export function runService(
  service: ServiceHost,
  logger: Logger,
  opts: ShutdownOptions = {},
): ShutdownControl {
  const control = onShutdown(logger, [() => service.stop()], opts);
  let refused = false;
  service.started.catch((err: unknown) => {
    refused = true;
    logger.fatal({ err }, "startup failed");
    const text = errorText(err);
    process.stderr.write(`${service.name}: refusing to start: ${text}\n`);
    void control.trigger("startup_refused");
  });
  return { ...control, done: control.done.then((code) => (refused ? 1 : code)) };
}
