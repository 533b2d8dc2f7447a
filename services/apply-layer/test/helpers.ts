import { fileURLToPath } from "node:url";
import {
  computePlanId,
  decodeApplyPlan,
  decodeApplyResult,
  encodeGovernorPermit,
  encodeP33Permit,
  type HarvestProposal,
  keys,
  type P33PermitAllow,
  streams,
} from "@quantum/contracts";
import {
  closeProposalAt,
  entriesForPlan,
  eventually,
  type FakeBinance,
  freePort,
  readStream,
  type ServiceProcess,
  startServiceProcess,
  streamProposal,
  type TestRedis,
  waitServiceReady,
  writeProposalHash,
} from "@quantum/testkit";
import type { Redis } from "ioredis";

/**
 * The built service (tests run the real process; build it first). APPLY_TEST_ENTRY runs them against another
 * build, e.g. to watch a regression test fail on an older one.
 */
export const APPLY_ENTRY =
  process.env.APPLY_TEST_ENTRY ?? fileURLToPath(new URL("../dist/main.js", import.meta.url));
/** The dev governor of packages/devtools (built before this package: it is a devDependency). */
export const GOVERNOR_ENTRY = fileURLToPath(
  new URL("../node_modules/@quantum/devtools/dist/governor-main.js", import.meta.url),
);
/** The real P3.3 service (a devDependency, built before this package). */
export const P33_ENTRY = fileURLToPath(
  new URL("../node_modules/@quantum/position-state-brain/dist/main.js", import.meta.url),
);

export interface RunningService {
  readonly proc: ServiceProcess;
  readonly port: number;
}

let consumerSeq = 0;

/** Start the Apply Layer against `redis` (db 0) and wait until it is ready. */
export async function startApply(
  redis: TestRedis,
  env: Record<string, string | undefined> = {},
  opts: { ready?: boolean; consumer?: string } = {},
): Promise<RunningService> {
  const port = await freePort();
  const proc = startServiceProcess({
    entry: APPLY_ENTRY,
    env: {
      REDIS_URL: redis.url(0),
      PROMETHEUS_PORT: String(port),
      APPLY_MODE: "paper",
      APPLY_POLL_SEC: "0.2",
      APPLY_CONSUMER_NAME: opts.consumer ?? `apply-test-${process.pid}-${++consumerSeq}`,
      APPLY_LOG_LEVEL: "debug",
      ...env,
    },
  });
  if (opts.ready !== false) await waitReady(proc, port);
  return { proc, port };
}

export async function waitReady(proc: ServiceProcess, port: number): Promise<void> {
  await waitServiceReady(proc, port, { keepOnFailure: true });
}

/** Start the dev governor (group `governor`). */
export function startGovernor(redis: TestRedis, env: Record<string, string> = {}): ServiceProcess {
  return startServiceProcess({
    entry: GOVERNOR_ENTRY,
    env: { REDIS_URL: redis.url(0), GOVERNOR_CONSUMER_NAME: `gov-${process.pid}-${++consumerSeq}`, ...env },
  });
}

let stamp = Date.parse("2026-02-01T00:00:00Z");

/** A proposal with a fresh computed_at_utc (so a fresh plan_id). */
export function proposal(symbol: string, over: Partial<HarvestProposal> = {}): HarvestProposal {
  stamp += 1000;
  return closeProposalAt(symbol, stamp, over);
}

export function planIdOf(p: HarvestProposal): string {
  return computePlanId(p);
}

/** Write the proposal hash (polled path); returns its plan_id. */
export const writeProposal = writeProposalHash;
export { streamProposal };

type Fields = Record<string, string>;

export async function plansFor(r: Redis, planId: string): Promise<Fields[]> {
  return entriesForPlan(r, streams.applyPlan, planId);
}

export async function resultsFor(r: Redis, planId: string): Promise<Fields[]> {
  return entriesForPlan(r, streams.applyResult, planId);
}

/** Wait for the plan entry (decoded strictly: what this service writes must pass its own contract). */
export async function waitPlan(r: Redis, planId: string, timeoutMs = 10_000): Promise<Fields> {
  return eventually(
    async () => {
      const [plan] = await plansFor(r, planId);
      if (plan === undefined) throw new Error(`no plan ${planId}`);
      const decoded = decodeApplyPlan(plan);
      if (!decoded.ok) throw new Error(`bad plan: ${decoded.error.message}`);
      return plan;
    },
    { timeoutMs, message: `plan ${planId}` },
  );
}

/** Wait for the plan's result (decoded strictly). */
export async function waitResult(r: Redis, planId: string, timeoutMs = 15_000): Promise<Fields> {
  return eventually(
    async () => {
      const [res] = await resultsFor(r, planId);
      if (res === undefined) throw new Error(`no result for ${planId}`);
      const decoded = decodeApplyResult(res);
      if (!decoded.ok) throw new Error(`bad result: ${decoded.error.message}`);
      return res;
    },
    { timeoutMs, message: `result of ${planId}` },
  );
}

export async function grantGovernor(r: Redis, planId: string, symbol: string, granted = true): Promise<void> {
  const json = encodeGovernorPermit({
    granted,
    symbol,
    decision: granted ? "EXECUTE" : "BLOCKED",
    computedQty: null,
    computedNotional: null,
    createdAt: Date.now() / 1000,
    consumed: false,
  });
  await r.set(keys.governorPermit(planId), json, "EX", 60);
}

export async function allowP33(
  r: Redis,
  planId: string,
  symbol: string,
  safeQty: string,
  exchangeAmt: string,
  over: Partial<Omit<P33PermitAllow, "allow" | "reason">> = {},
): Promise<void> {
  const json = encodeP33Permit({
    allow: true,
    symbol,
    safeQty,
    exchangePositionAmt: exchangeAmt,
    ledgerAmt: exchangeAmt,
    createdAt: Date.now() / 1000,
    reason: "sanity_checks_passed",
    venue: null,
    positionSide: "BOTH",
    ledgerResultPlanId: null,
    snapshotTs: null,
    ...over,
  });
  await r.set(keys.p33Permit(planId), json, "EX", 60);
}

export async function denyP33(r: Redis, planId: string, symbol: string, reason: string): Promise<void> {
  const json = encodeP33Permit({
    allow: false,
    symbol,
    reason,
    context: { exchange_amt: "0.05", ledger_amt: "0.04" },
    createdAt: Date.now() / 1000,
  });
  await r.set(keys.p33Permit(planId), json, "EX", 60);
}

/** Fills the paper exchange recorded (stream quantum:paper:orders) for a client order id. */
export async function paperFills(r: Redis, clientOrderId: string): Promise<Fields[]> {
  return (await readStream(r, streams.paperOrders))
    .map(([, f]) => f)
    .filter((e) => e.client_order_id === clientOrderId);
}

/** Order POSTs (regular orders) the fake venue received for a client order id. */
export function orderPosts(fake: FakeBinance, clientOrderId: string): number {
  return fake
    .requests()
    .filter(
      (q) =>
        q.method === "POST" && q.path === "/fapi/v1/order" && q.params.newClientOrderId === clientOrderId,
    ).length;
}

/**
 * Env of an Apply Layer in testnet mode against a FakeBinance (or a proxy in front of it) at `baseUrl`, on
 * database `db`, trading BTCUSDT and ETHUSDT.
 */
export function testnetEnv(
  redis: TestRedis,
  db: number,
  baseUrl: string,
  api: { apiKey: string; apiSecret: string },
  over: Record<string, string> = {},
): Record<string, string> {
  return {
    REDIS_URL: redis.url(db),
    APPLY_MODE: "testnet",
    BINANCE_TESTNET_API_KEY: api.apiKey,
    BINANCE_TESTNET_API_SECRET: api.apiSecret,
    BINANCE_BASE_URL: baseUrl,
    APPLY_ALLOW_LOOPBACK_EXCHANGE: "true",
    APPLY_ALLOWLIST: "BTCUSDT,ETHUSDT",
    ...over,
  };
}
