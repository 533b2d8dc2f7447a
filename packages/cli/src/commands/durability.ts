import type { Redis } from "ioredis";

/** What `WAIT` / `WAITAOF` confirmed after a write (`kill on` prints what it confirmed). */
export interface DurabilityReport {
  readonly serverVersion: string;
  readonly role: string;
  readonly replicas: {
    readonly connected: number;
    /** Replicas that acknowledged within the timeout; null when WAIT was not run (no replicas). */
    readonly acknowledged: number | null;
    readonly status: "confirmed" | "partial" | "no_replicas";
  };
  readonly aof: {
    readonly enabled: boolean;
    /** `confirmed` fsynced locally; `not_confirmed` WAITAOF timed out; `unsupported` server < 7.2. */
    readonly status: "confirmed" | "not_confirmed" | "unsupported" | "disabled";
    /** WAITAOF reply [numlocal, numreplicas]; null when not run. */
    readonly waitaof: readonly [number, number] | null;
  };
  /** False when a confirmation was attempted and fell short. */
  readonly complete: boolean;
  readonly timeoutMs: number;
}

/** `field:value` lines of an INFO section. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0 && !line.startsWith("#")) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

async function waitaofSupported(redis: Redis): Promise<boolean> {
  // COMMAND INFO answers [null] for a command the server does not know (no error-string matching).
  const reply = (await redis.call("COMMAND", "INFO", "WAITAOF")) as unknown;
  return Array.isArray(reply) && reply.length > 0 && reply[0] !== null;
}

/**
 * Confirm the writes made on this connection: `WAIT <connected replicas> <timeout>` when replicas are
 * connected, `WAITAOF 1 0 <timeout>` when AOF is on and the server has WAITAOF (Redis >= 7.2).
 */
export async function confirmDurability(redis: Redis, timeoutMs: number): Promise<DurabilityReport> {
  const info = parseInfo(String(await redis.info()));
  const connected = Number(info.connected_slaves ?? "0") || 0;
  let acknowledged: number | null = null;
  if (connected > 0) acknowledged = Number(await redis.wait(connected, timeoutMs));
  const aofEnabled = info.aof_enabled === "1";
  let aofStatus: DurabilityReport["aof"]["status"] = "disabled";
  let waitaof: [number, number] | null = null;
  if (aofEnabled) {
    if (await waitaofSupported(redis)) {
      const reply = (await redis.call("WAITAOF", "1", "0", String(timeoutMs))) as unknown;
      const arr = Array.isArray(reply) ? reply.map(Number) : [0, 0];
      waitaof = [arr[0] ?? 0, arr[1] ?? 0];
      aofStatus = waitaof[0] >= 1 ? "confirmed" : "not_confirmed";
    } else {
      aofStatus = "unsupported";
    }
  }
  const replicaStatus =
    connected === 0 ? "no_replicas" : (acknowledged ?? 0) >= connected ? "confirmed" : "partial";
  return {
    serverVersion: info.redis_version ?? "unknown",
    role: info.role ?? "unknown",
    replicas: { connected, acknowledged, status: replicaStatus },
    aof: { enabled: aofEnabled, status: aofStatus, waitaof },
    complete: replicaStatus !== "partial" && aofStatus !== "not_confirmed",
    timeoutMs,
  };
}
