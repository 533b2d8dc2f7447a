import { z } from "zod";
import { envInt, envPort } from "./env-schemas.js";

export interface SentinelAddress {
  host: string;
  port: number;
}

/** "h:p,h:p" → addresses ("h" alone means port 26379). */
function sentinelList() {
  return z.string().transform((raw, ctx): SentinelAddress[] => {
    const out: SentinelAddress[] = [];
    for (const item of raw.split(",").map((s) => s.trim())) {
      if (item === "") continue;
      const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(item);
      const port = m?.[2] === undefined ? 26_379 : Number(m[2]);
      if (m === null || port < 1 || port > 65_535) {
        ctx.addIssue({ code: "custom", message: `expected host:port[,host:port…], got "${item}"` });
        return z.NEVER;
      }
      out.push({ host: (m[1] as string).replace(/^\[|\]$/g, ""), port });
    }
    if (out.length === 0) {
      ctx.addIssue({ code: "custom", message: "expected at least one host:port" });
      return z.NEVER;
    }
    return out;
  });
}

function redisUrl() {
  return z.string().transform((raw, ctx) => {
    const v = raw.trim();
    let url: URL | null = null;
    try {
      url = new URL(v);
    } catch {
      url = null;
    }
    if (url === null || (url.protocol !== "redis:" && url.protocol !== "rediss:")) {
      ctx.addIssue({
        code: "custom",
        message: "expected redis://[user:password@]host:port[/db] or rediss://…",
      });
      return z.NEVER;
    }
    return v;
  });
}

/**
 * The Redis part of every service's config. Choice: REDIS_SENTINELS set → Sentinel; else REDIS_URL
 * set → URL; else REDIS_HOST/REDIS_PORT/REDIS_DB. Spread `redisConfigShape` into a service's `z.object`.
 */
export const redisConfigShape = {
  REDIS_URL: redisUrl()
    .optional()
    .describe("Redis URL (redis://[user:pass@]host:port/db); overrides REDIS_HOST/PORT/DB"),
  REDIS_HOST: z.string().default("127.0.0.1").describe("Redis host (QUANTUM_REDIS_HOST accepted)"),
  REDIS_PORT: envPort().default(6379).describe("Redis port (QUANTUM_REDIS_PORT accepted)"),
  REDIS_DB: envInt({ min: 0 }).default(0).describe("Redis database number (QUANTUM_REDIS_DB accepted)"),
  REDIS_USERNAME: z.string().optional().describe("Redis ACL user name"),
  REDIS_PASSWORD: z.string().optional().describe("Redis password (QUANTUM_REDIS_PASSWORD accepted)"),
  REDIS_SENTINELS: sentinelList()
    .optional()
    .describe("Sentinel addresses host:port,host:port; when set, the master is found through Sentinel"),
  REDIS_SENTINEL_NAME: z.string().default("mymaster").describe("Sentinel master name"),
  REDIS_SENTINEL_PASSWORD: z.string().optional().describe("Password of the Sentinel processes"),
  METRICS_HOST: z
    .string()
    .default("127.0.0.1")
    .describe("Address the /metrics /health /ready server binds to"),
} as const;

export const redisConfigSchema = z.object(redisConfigShape);
export type RedisConfig = z.infer<typeof redisConfigSchema>;

/** Alias names accepted for the Redis variables (canonical name wins when both are set). */
export const redisAliases: Readonly<Record<string, readonly string[]>> = {
  REDIS_URL: ["QUANTUM_REDIS_URL"],
  REDIS_HOST: ["QUANTUM_REDIS_HOST"],
  REDIS_PORT: ["QUANTUM_REDIS_PORT"],
  REDIS_DB: ["QUANTUM_REDIS_DB"],
  REDIS_PASSWORD: ["QUANTUM_REDIS_PASSWORD"],
};
