import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  type ApplyPlan,
  decodeP33Permit,
  encodeApplyPlan,
  keys,
  type P33Permit,
  streams,
} from "@quantum/contracts";
import {
  eventually,
  freePort,
  type ServiceProcess,
  startServiceProcess,
  type TestRedis,
  waitServiceReady,
} from "@quantum/testkit";
import type { Redis } from "ioredis";

/** The built service: tests run the real process. Build first (`pnpm --filter @quantum/position-state-brain build`). */
export const ENTRY = fileURLToPath(new URL("../dist/main.js", import.meta.url));

export interface Brain {
  readonly proc: ServiceProcess;
  readonly port: number;
}

/** Start dist/main.js against `redis.url(db)` in paper mode, wait for /health and /ready. */
export async function startBrain(
  redis: TestRedis,
  db: number,
  env: Record<string, string | undefined> = {},
): Promise<Brain> {
  const port = await freePort();
  const proc = startServiceProcess({
    entry: ENTRY,
    env: {
      REDIS_URL: redis.url(db),
      P33_METRICS_PORT: String(port),
      P33_EXCHANGE: "paper",
      P33_POLL_SEC: "0.2",
      P33_CONSUMER_NAME: `test-${db}-${port}`,
      ...env,
    },
  });
  await waitServiceReady(proc, port);
  return { proc, port };
}

/** P3.3 on the testnet venue, reading positions from a FakeBinance at `baseUrl` (loopback opt-in). */
export function fakeTestnetEnv(
  baseUrl: string,
  api: { apiKey: string; apiSecret: string },
): Record<string, string> {
  return {
    P33_EXCHANGE: "testnet",
    BINANCE_TESTNET_API_KEY: api.apiKey,
    BINANCE_TESTNET_API_SECRET: api.apiSecret,
    BINANCE_BASE_URL: baseUrl,
    APPLY_ALLOW_LOOPBACK_EXCHANGE: "true",
    // P3.3 is alone on the fake account, and polls every 0.2 s (1,500 weight a minute).
    EXCHANGE_RATE_LIMIT_SHARE_PCT: "100",
  };
}

let seq = 0;

/** A unique, valid plan id. */
export function newPlanId(): string {
  seq++;
  return createHash("sha256")
    .update(`${process.pid}:${Date.now()}:${seq}:${Math.random()}`)
    .digest("hex")
    .slice(0, 16);
}

/** A valid EXECUTE close plan for `symbol`, with overrides. */
export function makePlan(symbol: string, over: Partial<ApplyPlan> = {}): ApplyPlan {
  return {
    planId: newPlanId(),
    symbol,
    action: "FULL_CLOSE_PROPOSED",
    killScore: 0.31,
    kRegimeFlip: 0.1,
    kSigmaSpike: 0.05,
    kTsDrop: 0.1,
    kAgePenalty: 0.06,
    newSlProposed: null,
    rNet: 1.2,
    decision: "EXECUTE",
    reasonCodes: ["kill_score_warning_close_ok"],
    steps: [{ step: "CLOSE_FULL", type: "market_reduce_only", side: "close", pct: 100 }],
    closeQty: null,
    price: null,
    timestamp: Date.now() / 1000,
    reduceOnly: true,
    ...over,
  };
}

/** XADD a plan to apply.plan; resolves to its stream id. */
export async function publishPlan(client: Redis, plan: ApplyPlan): Promise<string> {
  return publishRaw(client, encodeApplyPlan(plan));
}

export async function publishRaw(client: Redis, fields: Record<string, string>): Promise<string> {
  const args: string[] = [];
  for (const [k, v] of Object.entries(fields)) args.push(k, v);
  const id = await client.xadd(streams.applyPlan, "*", ...args);
  if (id === null) throw new Error("xadd returned no id");
  return id;
}

/** The raw permit JSON of a plan, waiting until it exists. */
export async function permitRaw(client: Redis, planId: string, timeoutMs = 5000): Promise<string> {
  return eventually(
    async () => {
      const raw = await client.get(keys.p33Permit(planId));
      if (raw === null) throw new Error(`no permit for ${planId}`);
      return raw;
    },
    { timeoutMs, intervalMs: 5 },
  );
}

/** The decoded permit of a plan, waiting until it exists. */
export async function readPermit(client: Redis, planId: string, timeoutMs = 5000): Promise<P33Permit> {
  const raw = await permitRaw(client, planId, timeoutMs);
  const decoded = decodeP33Permit(raw);
  if (!decoded.ok) throw new Error(`permit of ${planId} does not decode: ${decoded.error.message}: ${raw}`);
  return decoded.value;
}

/** XPENDING count of a group (0 when everything was acknowledged). */
export async function pendingCount(client: Redis, stream: string, group: string): Promise<number> {
  const reply = (await client.call("XPENDING", stream, group)) as unknown[];
  return Number(reply[0] ?? 0);
}
