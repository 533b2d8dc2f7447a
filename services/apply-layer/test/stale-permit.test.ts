import { groups, streams } from "@quantum/contracts";
import {
  eventually,
  freePort,
  type ServiceProcess,
  startServiceProcess,
  waitHealthy,
} from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  P33_ENTRY,
  proposal,
  type RunningService,
  startApply,
  startGovernor,
  streamProposal,
  waitResult,
} from "./helpers.js";
import { useTestnetRig } from "./rig.js";

// A P3.3 permit sized before the symbol's last fill is never spent after it. Real Apply Layer, real P3.3 and the
// dev governor against FakeBinance (testnet mode) whose answers arrive 30-430 ms after it acted.
let r: Redis;
let governor: ServiceProcess;
let p33: ServiceProcess;
let apply: RunningService;
const API = { apiKey: "stale-key", apiSecret: "stale-secret" };

/** Deterministic latencies in 30..430 ms (a small LCG, seeded). */
function latencies(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return 30 + (x % 401);
  };
}

const rig = useTestnetRig({
  api: API,
  venue: {
    positions: [
      { symbol: "BTCUSDT", positionAmt: "1.000", markPrice: "60000" },
      { symbol: "ETHUSDT", positionAmt: "2.000", markPrice: "3000" },
    ],
  },
  dbs: [0],
  viaProxy: true,
  proxyLatencyMs: latencies(17),
  env: { APPLY_PERMIT_WAIT_MS: "10000" },
});

beforeAll(async () => {
  r = rig.redis.client(0);
  const venue = {
    BINANCE_TESTNET_API_KEY: API.apiKey,
    BINANCE_TESTNET_API_SECRET: API.apiSecret,
    BINANCE_BASE_URL: rig.proxy.baseUrl,
    APPLY_ALLOW_LOOPBACK_EXCHANGE: "true",
  };
  governor = startGovernor(rig.redis);
  const p33Port = await freePort();
  p33 = startServiceProcess({
    entry: P33_ENTRY,
    env: {
      REDIS_URL: rig.redis.url(0),
      P33_METRICS_PORT: String(p33Port),
      P33_EXCHANGE: "testnet",
      P33_ALLOWLIST: "BTCUSDT,ETHUSDT",
      P33_CONSUMER_NAME: `p33-stale-${process.pid}`,
      ...venue,
    },
  });
  await waitHealthy(p33Port, 30_000);
  await eventually(async () => {
    const info = (await r.xinfo("GROUPS", streams.applyPlan).catch(() => [])) as unknown[][];
    const names = info.map((g) => String(g[1]));
    return names.includes(groups.governor) && names.includes(groups.p33);
  });
  apply = await startApply(rig.redis, rig.env(0));
});

afterAll(async () => {
  await Promise.all([apply?.proc.stop(), governor?.stop(), p33?.stop()]);
});

describe("two closes of one symbol in one execution window", () => {
  it("PARTIAL_50 twice, 10 ms apart: the first fills, the second is BLOCKED p33_permit_stale (50 % left)", async () => {
    const first = await streamProposal(r, proposal("BTCUSDT", { action: "PARTIAL_50" }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    const second = await streamProposal(r, proposal("BTCUSDT", { action: "PARTIAL_50" }));
    expect(await waitResult(r, first, 30_000)).toMatchObject({ decision: "EXECUTE", executed: "True" });
    expect(await waitResult(r, second, 30_000)).toMatchObject({
      decision: "BLOCKED",
      reason: "p33_permit_stale",
    });
    expect(rig.fake.ordersFor(`qp3-c-${second}`)).toHaveLength(0);
    expect(Number(rig.fake.position("BTCUSDT")?.positionAmt)).toBe(0.5);
  });

  it("FULL_CLOSE right after a PARTIAL_50: refused as stale instead of reaching the venue", async () => {
    const first = await streamProposal(r, proposal("ETHUSDT", { action: "PARTIAL_50" }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    const second = await streamProposal(r, proposal("ETHUSDT", { action: "FULL_CLOSE_PROPOSED" }));
    expect(await waitResult(r, first, 30_000)).toMatchObject({ decision: "EXECUTE", executed: "True" });
    expect(await waitResult(r, second, 30_000)).toMatchObject({
      decision: "BLOCKED",
      reason: "p33_permit_stale",
    });
    expect(rig.fake.ordersFor(`qp3-c-${second}`)).toHaveLength(0);
    expect(Number(rig.fake.position("ETHUSDT")?.positionAmt)).toBe(1);
  });
});
