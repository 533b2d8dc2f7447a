import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeGovernorPermit, encodeP33Permit, keys } from "@quantum/contracts";
import {
  eventually,
  type FakeBinance,
  freePort,
  httpGet,
  metricValue,
  scrapeMetrics,
  startFakeBinance,
  startServiceProcess,
  startTestRedis,
  type TestRedis,
  waitHealthy,
} from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordFigures } from "./support/figures.js";
import { findSecrets } from "./support/haystack.js";
import { announceSeed } from "./support/seed.js";
import { ENTRIES, fakePositions, fakeSymbols } from "./support/system.js";
import { Traffic } from "./support/traffic.js";

// Deploy creates env files 0600; production refuses loopback and unknown exchange
// hosts and TESTNET=true, before any connection is opened, with a clear message and a non-zero exit; in
// production a missing kill switch key halts trading.

const API = { apiKey: "QCFGKEYa1b2c3d4e5", apiSecret: "QCFGSECRETf6g7h8i9" };
/** ops/deploy.sh (RELIABILITY_DEPLOY_SCRIPT runs another copy, e.g. a deliberately broken one). */
const DEPLOY =
  process.env.RELIABILITY_DEPLOY_SCRIPT ?? fileURLToPath(new URL("../../../ops/deploy.sh", import.meta.url));

let redis: TestRedis;
let r: Redis;
let fake: FakeBinance;
let seed: number;
let refusals = 0;
const t0 = Date.now();

beforeAll(async () => {
  seed = announceSeed("security-config");
  redis = await startTestRedis();
  r = redis.client(0);
  fake = await startFakeBinance({ ...API, symbols: fakeSymbols(), positions: fakePositions() });
});

afterAll(async () => {
  recordFigures("security-config", seed, {
    plans: 2,
    faults: refusals,
    orders: fake?.orders().length ?? 0,
    duplicates: 0,
    lost: 0,
    seconds: Math.round((Date.now() - t0) / 1000),
  });
  await fake?.close();
  await redis?.stop();
});

async function connectionsReceived(): Promise<number> {
  const info = await r.info("stats");
  return Number(/total_connections_received:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

/** Start a service that must refuse: resolves with its exit code and stderr; Redis must see no connection. */
async function refuses(
  entry: string,
  env: Record<string, string>,
): Promise<{ code: number | string; stderr: string }> {
  refusals++;
  const before = await connectionsReceived();
  const proc = startServiceProcess({ entry, env: { REDIS_URL: redis.url(0), ...env } });
  const code = await Promise.race([
    proc.exited,
    new Promise<string>((resolve) => setTimeout(() => resolve("still running"), 15_000).unref()),
  ]);
  if (code === "still running") await proc.kill();
  const after = await connectionsReceived();
  expect(after - before, "the refused process connected to Redis").toBe(0);
  const out = `${proc.stdout()}\n${proc.stderr()}`;
  expect(findSecrets(out, [API.apiKey, API.apiSecret])).toEqual([]);
  return { code, stderr: proc.stderr() };
}

const production = {
  APPLY_MODE: "production",
  BINANCE_API_KEY: API.apiKey,
  BINANCE_API_SECRET: API.apiSecret,
};

describe("production guards", () => {
  it("the Apply Layer in production refuses a loopback exchange (no opt-in) and unknown hosts", async () => {
    for (const url of [
      fake.baseUrl,
      "http://localhost:9",
      "https://fapi.binance.com.evil.example",
      "https://api.binance.com",
      "https://testnet.binancefuture.com",
      "http://fapi.binance.com",
    ]) {
      const out = await refuses(ENTRIES.apply, { ...production, BINANCE_BASE_URL: url });
      expect(out.code, url).toBe(2);
      expect(out.stderr, url).toMatch(/refusing to start: EXCHANGE_(HOST_NOT_ALLOWED|BASE_URL_INVALID)/);
    }
  });

  it("P3.3 with the production venue refuses a loopback exchange and unknown hosts", async () => {
    for (const url of [fake.baseUrl, "https://fapi.binance.com.evil.example"]) {
      const out = await refuses(ENTRIES.p33, {
        P33_EXCHANGE: "production",
        BINANCE_API_KEY: API.apiKey,
        BINANCE_API_SECRET: API.apiSecret,
        BINANCE_BASE_URL: url,
      });
      expect(out.code, url).toBe(2);
      expect(out.stderr, url).toMatch(/P33_EXCHANGE=production: .*(needs allowLoopback|is not allowed)/);
    }
  });

  it("the loopback opt-in is itself refused with a production venue, in the Apply Layer and in P3.3", async () => {
    const apply = await refuses(ENTRIES.apply, {
      ...production,
      BINANCE_BASE_URL: fake.baseUrl,
      APPLY_ALLOW_LOOPBACK_EXCHANGE: "true",
    });
    expect(apply.code).toBe(2);
    expect(apply.stderr).toContain(
      "APPLY_ALLOW_LOOPBACK_EXCHANGE=true is refused with APPLY_MODE=production",
    );
    const p33 = await refuses(ENTRIES.p33, {
      P33_EXCHANGE: "production",
      BINANCE_API_KEY: API.apiKey,
      BINANCE_API_SECRET: API.apiSecret,
      BINANCE_BASE_URL: fake.baseUrl,
      APPLY_ALLOW_LOOPBACK_EXCHANGE: "true",
    });
    expect(p33.code).toBe(2);
    expect(p33.stderr).toContain(
      "APPLY_ALLOW_LOOPBACK_EXCHANGE=true is refused with P33_EXCHANGE=production",
    );
    expect(fake.requests()).toHaveLength(0);
  });

  it("TESTNET=true cannot start with APPLY_MODE=production", async () => {
    const out = await refuses(ENTRIES.apply, { ...production, TESTNET: "true" });
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/refusing to start: .*TESTNET=true is refused with APPLY_MODE=production/s);
  });

  it("production with the kill switch key missing is halted: no order; an explicit false arms it", async () => {
    // Production never talks to a loopback venue: this process has the real host and must send nothing.
    await r.flushdb();
    const port = await freePort();
    const apply = startServiceProcess({
      entry: ENTRIES.apply,
      env: {
        REDIS_URL: redis.url(0),
        ...production,
        APPLY_ALLOWLIST: "BTCUSDT",
        PROMETHEUS_PORT: String(port),
        APPLY_PERMIT_WAIT_MS: "5000",
        APPLY_POLL_SEC: "0.2",
      },
    });
    try {
      await waitHealthy(port);
      await eventually(async () => (await httpGet(port, "/ready")).status === 200, { timeoutMs: 20_000 });
      const traffic = new Traffic(r, ["BTCUSDT"], { settleMs: 0 });
      // Both permits granted by hand (the dev governor never answers a production Apply Layer).
      const planWithPermits = async (): Promise<Record<string, string>> => {
        const planId = await traffic.send("BTCUSDT");
        if (planId === null) throw new Error("not sent");
        await r.set(keys.governorPermit(planId), governorPermit(), "EX", 60);
        await r.set(keys.p33Permit(planId), p33Permit(), "EX", 60);
        await traffic.waitAllResolved(20_000);
        return traffic.results.get(planId)?.fields ?? {};
      };
      expect(await r.exists(keys.killSwitch)).toBe(0);
      const halted = await planWithPermits();
      expect(halted).toMatchObject({ decision: "BLOCKED", reason: "kill_switch_active", mode: "production" });
      const m = await scrapeMetrics(port);
      expect(metricValue(m, "exchange_requests_total", { endpoint: "new_order" })).toBe(0);
      expect(metricValue(m, "apply_kill_switch_active")).toBe(1);

      await r.set(keys.killSwitch, "false");
      await eventually(async () => metricValue(await scrapeMetrics(port), "apply_kill_switch_active") === 0);
    } finally {
      await apply.stop();
    }
  });
});

function governorPermit(): string {
  return encodeGovernorPermit({
    granted: true,
    symbol: "BTCUSDT",
    decision: "EXECUTE",
    computedQty: null,
    computedNotional: null,
    createdAt: Date.now() / 1000,
    consumed: false,
  });
}

function p33Permit(): string {
  return encodeP33Permit({
    allow: true,
    symbol: "BTCUSDT",
    safeQty: "1.000",
    exchangePositionAmt: fakePositions()[0]?.positionAmt ?? "0",
    ledgerAmt: null,
    createdAt: Date.now() / 1000,
    reason: "sanity_checks_passed",
    // In production the Apply Layer accepts only a permit naming the production venue.
    venue: "production",
    positionSide: "BOTH",
    ledgerResultPlanId: null,
    snapshotTs: null,
  });
}

describe("deploy", () => {
  it("creates every env file 0600 (directory 0750), even under umask 000, and keeps it so on a re-run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quantum-rel-deploy-"));
    try {
      const src = join(dir, "src");
      for (const s of ["apply-layer", "position-state-brain", "decision-intelligence"]) {
        mkdirSync(join(src, "services", s, "dist"), { recursive: true });
        writeFileSync(join(src, "services", s, "dist", "main.js"), `// ${s}\n`);
      }
      mkdirSync(join(src, "packages/cli/dist"), { recursive: true });
      writeFileSync(join(src, "packages/cli/dist/main.js"), "// quantumctl\n");
      const root = join(dir, "root");
      mkdirSync(root);
      const run = () =>
        new Promise<{ code: number; out: string }>((resolve) => {
          execFile(
            "bash",
            ["-c", `umask 000; exec bash "$0" --root "$1" --source "$2" --version v1`, DEPLOY, root, src],
            { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" }, timeout: 120_000 },
            (err, stdout, stderr) =>
              resolve({ code: err === null ? 0 : Number(err.code ?? 1), out: `${stdout}\n${stderr}` }),
          );
        });
      for (const attempt of [1, 2]) {
        const res = await run();
        expect(res.code, `deploy run ${attempt}: ${res.out}`).toBe(0);
        const etc = join(root, "etc/quantum");
        const envFiles = readdirSync(etc).filter((f) => f.endsWith(".env"));
        expect(envFiles.sort()).toEqual([
          "apply-layer.env",
          "p35-decision-intelligence.env",
          "position-state-brain.env",
        ]);
        for (const f of envFiles) {
          const st = statSync(join(etc, f));
          expect((st.mode & 0o777).toString(8), f).toBe("600");
          expect(st.uid, f).toBe(process.getuid?.());
        }
        expect((statSync(etc).mode & 0o777).toString(8)).toBe("750");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
