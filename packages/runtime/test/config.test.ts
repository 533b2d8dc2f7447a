import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  ConfigError,
  envBool,
  envEnum,
  envInt,
  envList,
  envLogLevel,
  envNumber,
  envPort,
  listEnvVars,
  loadConfig,
  redisConfigShape,
} from "../src/index.js";

const schema = z.object({
  ...redisConfigShape,
  APPLY_MODE: envEnum(["dry_run", "paper", "testnet", "production"]).default("dry_run").describe("mode"),
  TESTNET: envBool().default(false).describe("permit bypass"),
  P33_POLL_SEC: envNumber({ min: 0.01 }).default(5).describe("snapshot refresh"),
  APPLY_PERMIT_WAIT_MS: envInt({ min: 1 }).default(1200).describe("permit wait"),
  APPLY_ALLOWLIST: envList({ case: "upper" }).default(["BTCUSDT"]).describe("allowlist"),
  PROMETHEUS_PORT: envPort().default(8000).describe("metrics port"),
  LOG_LEVEL: envLogLevel().default("info").describe("log level"),
  BINANCE_API_KEY: z.string().describe("production key"),
});
const aliases = { PROMETHEUS_PORT: ["APPLY_METRICS_PORT"] };

function load(env: Record<string, string>, argv: string[] = []) {
  return loadConfig(schema, { env, argv, aliases });
}

function issuesOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.code).toBe("config_invalid");
    expect(e.name).toBe("ConfigError");
    return e.issues;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("applies defaults and parses every helper type, fractions included", () => {
    const cfg = load({
      BINANCE_API_KEY: "k",
      P33_POLL_SEC: "0.5",
      TESTNET: "YES",
      APPLY_ALLOWLIST: " btcusdt, ethusdt ,,",
      LOG_LEVEL: "WARNING",
      APPLY_MODE: "Paper",
      REDIS_SENTINELS: "10.0.0.1:26379,10.0.0.2",
    });
    expect(cfg.P33_POLL_SEC).toBe(0.5);
    expect(cfg.TESTNET).toBe(true);
    expect(cfg.APPLY_ALLOWLIST).toEqual(["BTCUSDT", "ETHUSDT"]);
    expect(cfg.LOG_LEVEL).toBe("warn");
    expect(cfg.APPLY_MODE).toBe("paper");
    expect(cfg.APPLY_PERMIT_WAIT_MS).toBe(1200);
    expect(cfg.REDIS_HOST).toBe("127.0.0.1");
    expect(cfg.REDIS_PORT).toBe(6379);
    expect(cfg.METRICS_HOST).toBe("127.0.0.1");
    expect(cfg.REDIS_SENTINELS).toEqual([
      { host: "10.0.0.1", port: 26379 },
      { host: "10.0.0.2", port: 26379 },
    ]);
    expect(load({ BINANCE_API_KEY: "k", TESTNET: "0", LOG_LEVEL: "Debug" })).toMatchObject({
      TESTNET: false,
      LOG_LEVEL: "debug",
    });
  });

  it("reports every problem at once, one line per variable", () => {
    const issues = issuesOf(() =>
      load({
        P33_POLL_SEC: "fast",
        TESTNET: "maybe",
        APPLY_PERMIT_WAIT_MS: "0.5",
        PROMETHEUS_PORT: "70000",
        LOG_LEVEL: "loud",
        APPLY_MODE: "live",
        REDIS_URL: "http://x",
        REDIS_SENTINELS: "a:b:c",
      }),
    );
    const vars = [
      "P33_POLL_SEC",
      "TESTNET",
      "APPLY_PERMIT_WAIT_MS",
      "PROMETHEUS_PORT",
      "LOG_LEVEL",
      "APPLY_MODE",
      "REDIS_URL",
      "REDIS_SENTINELS",
      "BINANCE_API_KEY",
    ];
    expect(issues).toHaveLength(vars.length);
    for (const v of vars) expect(issues.some((i) => i.startsWith(`${v}: `))).toBe(true);
    expect(issues).toContain("BINANCE_API_KEY: required but not set");
    expect(issues.find((i) => i.startsWith("P33_POLL_SEC"))).toContain('"fast"');
    for (const i of issues) expect(i).not.toContain("\n");
  });

  it("reads --env-file as defaults under the real environment, both flag spellings", () => {
    const dir = mkdtempSync(join(tmpdir(), "quantum-config-"));
    const file = join(dir, "apply.env");
    writeFileSync(
      file,
      [
        "# comment",
        "BINANCE_API_KEY=from-file",
        "P33_POLL_SEC=0.25",
        'APPLY_ALLOWLIST="BTCUSDT,SOLUSDT"',
        "TESTNET=",
        "QUANTUM_REDIS_HOST=10.1.1.1",
      ].join("\n"),
    );
    const a = load({ P33_POLL_SEC: "2" }, ["--env-file", file]);
    expect(a.BINANCE_API_KEY).toBe("from-file");
    expect(a.P33_POLL_SEC).toBe(2);
    expect(a.APPLY_ALLOWLIST).toEqual(["BTCUSDT", "SOLUSDT"]);
    expect(a.TESTNET).toBe(false);
    expect(a.REDIS_HOST).toBe("10.1.1.1");
    const b = load({ REDIS_HOST: "10.2.2.2" }, [`--env-file=${file}`, "--other"]);
    expect(b.P33_POLL_SEC).toBe(0.25);
    expect(b.REDIS_HOST).toBe("10.2.2.2");
    const missing = issuesOf(() => load({ BINANCE_API_KEY: "k" }, ["--env-file", join(dir, "nope.env")]));
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatch(/^--env-file .*nope\.env: /);
    expect(issuesOf(() => load({ BINANCE_API_KEY: "k" }, ["--env-file"]))).toEqual([
      "--env-file: a path is required",
    ]);
  });

  it("accepts alias names; the canonical one wins when both are set", () => {
    const aliased = load({
      BINANCE_API_KEY: "k",
      QUANTUM_REDIS_HOST: "h1",
      QUANTUM_REDIS_PORT: "6380",
      QUANTUM_REDIS_DB: "2",
      APPLY_METRICS_PORT: "9100",
    });
    expect(aliased).toMatchObject({ REDIS_HOST: "h1", REDIS_PORT: 6380, REDIS_DB: 2, PROMETHEUS_PORT: 9100 });
    const both = load({
      BINANCE_API_KEY: "k",
      REDIS_HOST: "canonical",
      QUANTUM_REDIS_HOST: "alias",
      PROMETHEUS_PORT: "8001",
      APPLY_METRICS_PORT: "9100",
    });
    expect(both).toMatchObject({ REDIS_HOST: "canonical", PROMETHEUS_PORT: 8001 });
    const bad = issuesOf(() => load({ BINANCE_API_KEY: "k", APPLY_METRICS_PORT: "x" }));
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatch(/^PROMETHEUS_PORT: /);
  });

  it("lists env vars with defaults, descriptions and aliases", () => {
    const docs = listEnvVars(schema, aliases);
    const by = Object.fromEntries(docs.map((d) => [d.name, d]));
    expect(by.APPLY_PERMIT_WAIT_MS).toMatchObject({
      default: "1200",
      required: false,
      description: "permit wait",
    });
    expect(by.APPLY_ALLOWLIST?.default).toBe("BTCUSDT");
    expect(by.TESTNET?.default).toBe("false");
    expect(by.BINANCE_API_KEY).toMatchObject({ default: undefined, required: true });
    expect(by.REDIS_URL).toMatchObject({ required: false, default: undefined });
    expect(by.REDIS_URL?.description).toContain("Redis URL");
    expect(by.REDIS_HOST?.aliases).toEqual(["QUANTUM_REDIS_HOST"]);
    expect(by.PROMETHEUS_PORT?.aliases).toEqual(["APPLY_METRICS_PORT"]);
    expect(by.METRICS_HOST?.default).toBe("127.0.0.1");
  });
});
