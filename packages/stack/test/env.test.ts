import { describe, expect, it } from "vitest";
import { type ChildEnvInput, childEnv, passThroughEnv, SERVICE_NODE_OPTIONS } from "../src/index.js";

const input = (env: Record<string, string | undefined>): ChildEnvInput => ({
  env,
  redisUrl: "redis://127.0.0.1:7000/0",
  symbols: ["BTCUSDT", "ETHUSDT"],
  feederSymbols: ["ETHUSDT"],
  feederIntervalSec: 2,
  logLevel: "debug",
  ports: { "apply-layer": 9100, "position-state-brain": 9145, "decision-intelligence": 9146 },
});

describe("childEnv", () => {
  it("always runs paper mode on the stack's Redis, whatever the caller exported", () => {
    const hostile = {
      APPLY_MODE: "production",
      TESTNET: "true",
      P33_EXCHANGE: "production",
      BINANCE_API_KEY: "live-key",
      BINANCE_API_SECRET: "live-secret",
      REDIS_HOST: "prod-redis",
      REDIS_URL: "redis://prod:6379/0",
      QUANTUM_REDIS_PORT: "6390",
      APPLY_TEST_CRASH_AT: "after_claim",
      PROMETHEUS_PORT: "8000",
      APPLY_ALLOWLIST: "DOGEUSDT",
    };
    const apply = childEnv("apply-layer", input(hostile));
    expect(apply).toMatchObject({
      APPLY_MODE: "paper",
      TESTNET: "false",
      REDIS_URL: "redis://127.0.0.1:7000/0",
      APPLY_ALLOWLIST: "BTCUSDT,ETHUSDT",
      SYMBOLS: "BTCUSDT,ETHUSDT",
      PROMETHEUS_PORT: "9100",
      APPLY_POLL_SEC: "1",
      APPLY_LOG_LEVEL: "debug",
    });
    const p33 = childEnv("position-state-brain", input(hostile));
    expect(p33).toMatchObject({
      P33_EXCHANGE: "paper",
      P33_ALLOWLIST: "BTCUSDT,ETHUSDT",
      P33_METRICS_PORT: "9145",
    });
    for (const env of [apply, p33]) {
      for (const k of [
        "BINANCE_API_KEY",
        "BINANCE_API_SECRET",
        "REDIS_HOST",
        "QUANTUM_REDIS_PORT",
        "APPLY_TEST_CRASH_AT",
      ]) {
        expect(env[k]).toBeUndefined();
      }
    }
  });

  it("service variables the caller exported win over the stack defaults", () => {
    const env = input({
      APPLY_POLL_SEC: "0.2",
      APPLY_PERMIT_WAIT_MS: "5000",
      P33_COOLDOWN_SEC: "0",
      PATH: "/bin",
    });
    expect(childEnv("apply-layer", env)).toMatchObject({
      APPLY_POLL_SEC: "0.2",
      APPLY_PERMIT_WAIT_MS: "5000",
      PATH: "/bin",
    });
    expect(childEnv("position-state-brain", env)).toMatchObject({ P33_POLL_SEC: "1", P33_COOLDOWN_SEC: "0" });
  });

  it("feeder, governor and P3.5 get their own defaults", () => {
    expect(childEnv("demo-feeder", input({}))).toEqual({
      FEEDER_SYMBOLS: "ETHUSDT",
      FEEDER_INTERVAL_SEC: "2",
      LOG_LEVEL: "debug",
      REDIS_URL: "redis://127.0.0.1:7000/0",
    });
    expect(childEnv("dev-governor", input({ GOVERNOR_BLOCK_SYMBOLS: "ETHUSDT" }))).toMatchObject({
      GOVERNOR_BLOCK_SYMBOLS: "ETHUSDT",
      REDIS_URL: "redis://127.0.0.1:7000/0",
    });
    expect(childEnv("decision-intelligence", input({ P35_ALLOWLIST: "DOGEUSDT" }))).toMatchObject({
      P35_ALLOWLIST: "BTCUSDT,ETHUSDT",
      P35_METRICS_PORT: "9146",
      P35_SNAPSHOT_INTERVAL_SEC: "2",
    });
  });

  it("passThroughEnv drops undefined values, credentials and connection settings", () => {
    expect(
      passThroughEnv({
        A: "1",
        B: undefined,
        BINANCE_TESTNET_API_KEY: "k",
        REDIS_SENTINELS: "x",
        NODE_OPTIONS: "--inspect",
      }),
    ).toEqual({
      A: "1",
    });
  });
});

describe("service node flags", () => {
  it("start every service with the same V8 flags as its systemd unit", async () => {
    const { readFileSync } = await import("node:fs");
    const units = {
      "apply-layer": "quantum-apply-layer",
      "position-state-brain": "quantum-position-state-brain",
      "decision-intelligence": "quantum-p35-decision-intelligence",
    } as const;
    for (const [name, unit] of Object.entries(units) as Array<[keyof typeof units, string]>) {
      const text = readFileSync(
        new URL(`../../../etc/systemd/system/${unit}.service`, import.meta.url),
        "utf8",
      );
      const fromUnit = /^Environment=NODE_OPTIONS=(.+)$/m.exec(text)?.[1];
      expect(fromUnit, unit).toBe(SERVICE_NODE_OPTIONS[name]);
      expect(childEnv(name, input({ NODE_OPTIONS: "--inspect" })).NODE_OPTIONS).toBe(
        SERVICE_NODE_OPTIONS[name],
      );
    }
    expect(childEnv("demo-feeder", input({})).NODE_OPTIONS).toBeUndefined();
  });
});
