import { ConfigError, listEnvVars } from "@quantum/runtime";
import { describe, expect, it } from "vitest";
import { APPLY_ENV_ALIASES, applyEnvSchema, loadApplyConfig } from "../src/config.js";

const load = (env: Record<string, string>) => loadApplyConfig({ env, argv: [] });

function issues(env: Record<string, string>): readonly string[] {
  try {
    load(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("apply layer config", () => {
  it("has the documented defaults", () => {
    const cfg = load({});
    expect(cfg).toMatchObject({
      mode: "dry_run",
      testnetBypass: false,
      venue: null,
      permitWaitMs: 1200,
      permitStepMs: 100,
      symbols: ["BTCUSDT"],
      pollMs: 5000,
      dedupeTtlSec: 21600,
      kBlockCritical: 0.8,
      kBlockWarning: 0.6,
      envKillSwitch: false,
      metricsPort: 8000,
      metricsHost: "127.0.0.1",
      testCrashAt: null,
    });
    expect([...cfg.allowlist]).toEqual(["BTCUSDT"]);
  });

  it("accepts fractions, alias names and case-insensitive values", () => {
    const cfg = load({
      APPLY_MODE: "PAPER",
      APPLY_POLL_SEC: "0.5",
      APPLY_METRICS_PORT: "9100",
      APPLY_ALLOWLIST: "btcusdt, ethusdt",
      QUANTUM_REDIS_PORT: "6380",
      APPLY_LOG_LEVEL: "WARNING",
    });
    expect(cfg).toMatchObject({
      mode: "paper",
      venue: "paper",
      pollMs: 500,
      metricsPort: 9100,
      logLevel: "warn",
    });
    expect(cfg.symbols).toEqual(["BTCUSDT", "ETHUSDT"]);
    expect(cfg.redis.REDIS_PORT).toBe(6380);
  });

  it("takes 90 % of the venue's rate limits unless EXCHANGE_RATE_LIMIT_SHARE_PCT says otherwise", () => {
    expect(load({}).rateLimitSharePct).toBe(90);
    expect(load({ EXCHANGE_RATE_LIMIT_SHARE_PCT: "60" }).rateLimitSharePct).toBe(60);
    for (const bad of ["0", "101", "50.5"]) {
      expect(issues({ EXCHANGE_RATE_LIMIT_SHARE_PCT: bad }).join("\n")).toContain(
        "EXCHANGE_RATE_LIMIT_SHARE_PCT",
      );
    }
  });

  it("refuses TESTNET=true with APPLY_MODE=production", () => {
    const found = issues({
      APPLY_MODE: "production",
      TESTNET: "true",
      BINANCE_API_KEY: "k",
      BINANCE_API_SECRET: "s",
    });
    expect(found.join("\n")).toMatch(/^TESTNET: TESTNET=true is refused with APPLY_MODE=production/m);
  });

  it("refuses the test crash hook in production", () => {
    const found = issues({
      APPLY_MODE: "production",
      APPLY_TEST_CRASH_AT: "after_fill",
      BINANCE_API_KEY: "k",
      BINANCE_API_SECRET: "s",
    });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^APPLY_TEST_CRASH_AT: /);
  });

  it("refuses the test order limit in production and checks its form elsewhere", () => {
    const found = issues({
      APPLY_MODE: "production",
      APPLY_TEST_ORDER_LIMIT: "20/2000",
      BINANCE_API_KEY: "k",
      BINANCE_API_SECRET: "s",
    });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^APPLY_TEST_ORDER_LIMIT: .*refused with APPLY_MODE=production/);
    expect(issues({ APPLY_TEST_ORDER_LIMIT: "20 per 2s" })[0]).toMatch(/^APPLY_TEST_ORDER_LIMIT: expected/);
  });

  it("needs the credentials of a live mode, in one line each", () => {
    expect(issues({ APPLY_MODE: "production" })).toEqual([
      "BINANCE_API_KEY: missing_credentials: APPLY_MODE=production needs BINANCE_API_KEY and BINANCE_API_SECRET; refusing to start",
    ]);
    expect(issues({ APPLY_MODE: "testnet", BINANCE_TESTNET_API_KEY: "k" })[0]).toMatch(
      /BINANCE_TESTNET_API_SECRET/,
    );
    expect(
      load({ APPLY_MODE: "testnet", BINANCE_TESTNET_API_KEY: "k", BINANCE_TESTNET_API_SECRET: "s" })
        .credentials,
    ).toEqual({
      apiKey: "k",
      apiSecret: "s",
    });
  });

  it("reports every problem at once", () => {
    const found = issues({ APPLY_PERMIT_WAIT_MS: "soon", APPLY_POLL_SEC: "0", TESTNET: "maybe" });
    expect(found).toHaveLength(3);
  });

  it("checks thresholds and TTLs against each other", () => {
    expect(issues({ K_BLOCK_WARNING: "0.9" })[0]).toMatch(/^K_BLOCK_WARNING: must be <= K_BLOCK_CRITICAL/);
    expect(issues({ APPLY_EXEC_RECORD_TTL_SEC: "60" })[0]).toMatch(/^APPLY_EXEC_RECORD_TTL_SEC: /);
  });

  it("describes every variable (docs are generated from the schema)", () => {
    const vars = listEnvVars(applyEnvSchema, APPLY_ENV_ALIASES);
    for (const v of vars) expect(v.description, v.name).not.toBe("");
    const byName = Object.fromEntries(vars.map((v) => [v.name, v]));
    expect(byName.PROMETHEUS_PORT).toMatchObject({ default: "8000", aliases: ["APPLY_METRICS_PORT"] });
    expect(byName.APPLY_PERMIT_WAIT_MS?.default).toBe("1200");
    expect(Object.keys(byName)).toEqual(
      expect.arrayContaining([
        "APPLY_MODE",
        "TESTNET",
        "APPLY_PERMIT_STEP_MS",
        "APPLY_ALLOWLIST",
        "SYMBOLS",
        "APPLY_POLL_SEC",
        "APPLY_DEDUPE_TTL_SEC",
        "K_BLOCK_CRITICAL",
        "K_BLOCK_WARNING",
        "APPLY_KILL_SWITCH",
        "APPLY_LOG_LEVEL",
        "BINANCE_TESTNET_API_KEY",
        "BINANCE_TESTNET_API_SECRET",
        "BINANCE_API_KEY",
        "BINANCE_API_SECRET",
        "BINANCE_BASE_URL",
        "APPLY_ALLOW_LOOPBACK_EXCHANGE",
        "REDIS_URL",
      ]),
    );
  });
});
