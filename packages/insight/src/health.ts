import { errorText } from "@quantum/contracts";
import type { Redis } from "ioredis";
import { KNOWN_SERVICES, readServiceStatuses, type ServiceStatusRow } from "./services.js";

export const DEFAULT_HEALTH_HOST = "127.0.0.1";
export const DEFAULT_HEALTH_TIMEOUT_MS = 2000;

export interface ServiceHealth {
  readonly service: string;
  readonly host: string;
  readonly port: number;
  /** `status` = metrics_port of the service status hash; `default` = the documented port. */
  readonly portSource: "status" | "default";
  readonly url: string;
  readonly ok: boolean;
  /** HTTP status; null when there was no HTTP answer. */
  readonly httpStatus: number | null;
  /** Body (at most 500 chars) or the connection error. */
  readonly body: string | null;
  readonly error: string | null;
  readonly latencyMs: number;
}

export interface HealthResult {
  readonly redis: { readonly ok: boolean; readonly latencyMs: number | null; readonly error: string | null };
  readonly services: readonly ServiceHealth[];
  readonly healthy: boolean;
}

export interface HealthOptions {
  host?: string;
  timeoutMs?: number;
  /** Only these services (names of KNOWN_SERVICES); default all three. */
  services?: readonly string[];
  /** Override the documented ports (tests, non-standard installs). */
  defaultPorts?: Readonly<Record<string, number>>;
}

/** GET http://host:port/health; never throws. */
export async function probeHealth(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<{
  ok: boolean;
  httpStatus: number | null;
  body: string | null;
  error: string | null;
  latencyMs: number;
}> {
  const started = performance.now();
  const latency = () => Math.round((performance.now() - started) * 10) / 10;
  try {
    const res = await fetch(`http://${host}:${port}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.text()).slice(0, 500);
    return { ok: res.status === 200, httpStatus: res.status, body, error: null, latencyMs: latency() };
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : "";
    const msg = err instanceof Error ? `${err.message}${cause}` : String(err);
    return { ok: false, httpStatus: null, body: null, error: msg, latencyMs: latency() };
  }
}

export function selectServices(names: readonly string[] | undefined): (typeof KNOWN_SERVICES)[number][] {
  if (names === undefined || names.length === 0) return [...KNOWN_SERVICES];
  return KNOWN_SERVICES.filter((s) => names.includes(s.service));
}

/** Probe each service's /health: the port from its status hash, else the documented default. */
export async function probeServices(
  statuses: readonly ServiceStatusRow[],
  opts: HealthOptions = {},
): Promise<ServiceHealth[]> {
  const host = opts.host ?? DEFAULT_HEALTH_HOST;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  return Promise.all(
    selectServices(opts.services).map(async (s) => {
      const fromStatus = statuses.find((r) => r.service === s.service)?.metricsPort ?? null;
      const port = fromStatus ?? opts.defaultPorts?.[s.service] ?? s.defaultPort;
      const r = await probeHealth(host, port, timeoutMs);
      return {
        service: s.service,
        host,
        port,
        portSource: fromStatus === null ? ("default" as const) : ("status" as const),
        url: `http://${host}:${port}/health`,
        ...r,
      };
    }),
  );
}

async function pingRedis(redis: Redis): Promise<HealthResult["redis"]> {
  const started = performance.now();
  try {
    await redis.ping();
    return { ok: true, latencyMs: Math.round((performance.now() - started) * 100) / 100, error: null };
  } catch (err) {
    return { ok: false, latencyMs: null, error: errorText(err) };
  }
}

/**
 * `health`: Redis PING and each service's /health. With `redis` null (unreachable) the services are still
 * probed on their default ports.
 */
export async function health(
  redis: Redis | null,
  opts: HealthOptions & { redisError?: string } = {},
): Promise<HealthResult> {
  const redisStatus: HealthResult["redis"] =
    redis === null
      ? { ok: false, latencyMs: null, error: opts.redisError ?? "not connected" }
      : await pingRedis(redis);
  const statuses =
    redis !== null && redisStatus.ok
      ? (await readServiceStatuses(redis, { includeOthers: false })).services
      : [];
  const services = await probeServices(statuses, opts);
  return { redis: redisStatus, services, healthy: redisStatus.ok && services.every((s) => s.ok) };
}
