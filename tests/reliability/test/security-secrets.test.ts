import { keys, streams } from "@quantum/contracts";
import {
  eventually,
  type FakeBinance,
  type FakeFaultSpec,
  httpGet,
  startFakeBinance,
  startTestRedis,
  type TestRedis,
} from "@quantum/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditExactlyOnce } from "./support/audit.js";
import { recordFigures } from "./support/figures.js";
import { dumpKeyspace, findSecrets, listenAddresses, quantumctl } from "./support/haystack.js";
import { tick } from "./support/rig.js";
import { announceSeed, rng } from "./support/seed.js";
import { fakePositions, fakeSymbols, QuantumSystem, SERVICES } from "./support/system.js";
import { Traffic } from "./support/traffic.js";

// Secrets stay redacted: a run with distinctive fake secrets (exchange key and secret, Redis password)
// through normal fills and every kind of exchange error, including a venue that echoes the credentials back in
// its error messages. Afterwards no secret may appear anywhere: every byte every process wrote, every stream
// entry and key in Redis (results, dead letters, status hashes...), every /metrics page, quantumctl's output.
// The metrics servers, started without METRICS_HOST, must listen on 127.0.0.1 only.

const API = { apiKey: "QSECKEYr7Jx2m9PzW4vLq", apiSecret: "QSECSECRETk3Vb8nT6yH1qZ0" };
const REDIS_PASSWORD = "QSECREDISpw5Gd2Lc9Xe";
const SECRETS = [API.apiKey, API.apiSecret, REDIS_PASSWORD];
const ECHO = `key=${API.apiKey} secret=${API.apiSecret}`;
const POST_ORDER = { method: "POST", path: "/fapi/v1/order" } as const;

let redis: TestRedis;
let r: Redis;
let fake: FakeBinance;
let sys: QuantumSystem;
let seed: number;
const t0 = Date.now();

beforeAll(async () => {
  seed = announceSeed("security-secrets");
  redis = await startTestRedis();
  await redis.client(0).config("SET", "requirepass", REDIS_PASSWORD);
  r = new Redis({ host: redis.host, port: redis.port, password: REDIS_PASSWORD });
  await r.set(keys.killSwitch, "false");
  fake = await startFakeBinance({ ...API, symbols: fakeSymbols(), positions: fakePositions() });
  sys = await QuantumSystem.create({
    redisEnv: { REDIS_HOST: redis.host, REDIS_PORT: String(redis.port), REDIS_PASSWORD },
    exchange: { baseUrl: fake.baseUrl, ...API },
    tag: "security",
    // The most verbose logs: a secret that leaks anywhere leaks here first. The Apply Layer and P3.5 get the
    // Redis password inside REDIS_URL, P3.3 and the Governor as REDIS_PASSWORD: both forms are covered.
    env: {
      apply: { APPLY_LOG_LEVEL: "trace", ...urlOnly() },
      p33: { P33_LOG_LEVEL: "trace" },
      p35: { LOG_LEVEL: "trace", ...urlOnly() },
      governor: { LOG_LEVEL: "trace" },
    },
  });
  await sys.startAll(r);
});

/** Redis only through REDIS_URL (the password inside it). */
function urlOnly(): Record<string, string | undefined> {
  return {
    REDIS_URL: passwordUrl(),
    REDIS_HOST: undefined,
    REDIS_PORT: undefined,
    REDIS_PASSWORD: undefined,
  };
}

function passwordUrl(): string {
  return `redis://:${REDIS_PASSWORD}@${redis.host}:${redis.port}/0`;
}

afterAll(async () => {
  await sys?.stopAll();
  r?.disconnect();
  await fake?.close();
  await redis?.stop();
});

describe("secrets and exposure", () => {
  it("no API key, API secret or Redis password in logs, results, dead letters, keys or metrics", async () => {
    const traffic = new Traffic(r, sys.symbols, { settleMs: 300 });
    const one = async (fault: FakeFaultSpec | null): Promise<Record<string, string>> => {
      if (fault !== null) fake.injectFault(fault);
      let planId: string | null = null;
      while (planId === null) {
        await traffic.poll();
        planId = await traffic.sendNext();
        if (planId === null) await tick();
      }
      const id = planId;
      return eventually(
        async () => {
          await traffic.poll();
          const res = traffic.results.get(id);
          if (res === undefined) throw new Error(`no result for ${id}`);
          return res.fields;
        },
        { timeoutMs: 30_000, intervalMs: 50 },
      );
    };
    // The order of the faults is seeded; each is followed by normal plans.
    const faults: FakeFaultSpec[] = rng(seed, "security").shuffle([
      { ...POST_ORDER, kind: "reject", code: -2022, msg: "ReduceOnly Order is rejected." },
      { ...POST_ORDER, kind: "reject", code: -1022, msg: `Signature for this request is not valid. ${ECHO}` },
      { ...POST_ORDER, kind: "reject", code: -2015, msg: `Invalid API-key, IP, or permissions. ${ECHO}` },
      { ...POST_ORDER, kind: "reject", code: -4003, msg: `Quantity less than zero. ${ECHO}` },
      { ...POST_ORDER, kind: "serverError", status: 502, body: `<html>bad gateway ${ECHO}</html>` },
      { ...POST_ORDER, kind: "dropAfterFill" },
    ]);
    for (let i = 0; i < 3; i++) await one(null);
    for (const f of faults) {
      await one(f);
      await one(null);
    }
    // P3.3's position reads fail with the credentials in the body; a rate limit; a clock jump (-1021).
    fake.injectFault({
      method: "GET",
      path: "/fapi/v2/positionRisk",
      kind: "serverError",
      status: 500,
      body: ECHO,
      times: 3,
    });
    await one({ ...POST_ORDER, kind: "rateLimit", status: 429, retryAfterSec: 1 });
    fake.setClockSkew(12_000);
    await eventually(async () => (await one(null)).decision === "EXECUTE", {
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    fake.setClockSkew(0);
    await one(null);
    // A malformed proposal: dead-lettered (so the dead-letter stream is part of what is searched).
    await r.xadd(streams.harvestProposal, "*", "symbol", "BTCUSDT", "kill_score", "NaN");
    await traffic.waitAllResolved(30_000);
    await eventually(async () => (await r.xlen(streams.deadLetter)) > 0);

    const ctlEnv = { REDIS_URL: passwordUrl() };
    const ctl = await Promise.all(
      [
        ["status", "--json"],
        ["mode", "--json"],
        ["health", "--json"],
        ["kill", "status", "--json"],
        ["dashboard", "all"],
      ].map((args) => quantumctl(args, ctlEnv)),
    );
    const metrics = await Promise.all(
      SERVICES.map(async (s) => (await httpGet(sys.port(s), "/metrics")).body),
    );
    const haystack = {
      processes: sys.allOutput(),
      redis: await dumpKeyspace(r),
      metrics: metrics.join("\n"),
      quantumctl: ctl.map((c) => `${c.stdout}\n${c.stderr}`).join("\n"),
    };

    const audit = await auditExactlyOnce(r, fake);
    recordFigures("security-secrets", seed, {
      plans: audit.plans,
      faults: faults.length + 3,
      orders: audit.orders,
      duplicates: audit.duplicateOrders.length + audit.duplicateResults.length,
      lost: audit.lostPlans.length,
      seconds: Math.round((Date.now() - t0) / 1000),
      searchedBytes: Object.values(haystack).reduce((n, s) => n + s.length, 0),
      byReason: audit.byReason,
    });

    for (const [where, text] of Object.entries(haystack)) {
      expect(findSecrets(text, SECRETS), `secrets in ${where}`).toEqual([]);
    }
    // The search was not vacuous: the venue's echoes reached results and logs, scrubbed.
    expect(haystack.redis).toContain("[redacted]");
    expect(haystack.processes).toContain("[redacted]");
    expect(haystack.processes.length).toBeGreaterThan(20_000);
    // The 429 plan waits Retry-After (within APPLY_RATE_LIMIT_MAX_WAIT_MS) and trades: it counts under "none".
    expect(audit.byReason).toMatchObject({
      exchange_rejected: expect.any(Number),
      exchange_unknown_resolved_not_filled: expect.any(Number),
      none: expect.any(Number),
    });
    expect(fake.requests().some((q) => q.status === 429)).toBe(true);
    expect(audit.byReason.exchange_rejected).toBeGreaterThanOrEqual(4);
    expect(audit.duplicateOrders).toEqual([]);
    expect(ctl.filter((c) => c.stdout.length > 0).length).toBeGreaterThanOrEqual(4);
  });

  it("metrics servers started without METRICS_HOST listen on 127.0.0.1 only", () => {
    for (const s of SERVICES) {
      expect(sys.envFor(s).METRICS_HOST, s).toBeUndefined();
      expect(listenAddresses(sys.port(s)), s).toEqual(["127.0.0.1"]);
    }
  });
});
