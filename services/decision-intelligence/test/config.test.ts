import { ConfigError, listEnvVars, loadConfig } from "@quantum/runtime";
import { describe, expect, it } from "vitest";
import { configSchema } from "../src/config.js";

const load = (env: Record<string, string>) => loadConfig(configSchema, { env, argv: [] });

describe("config", () => {
  it("has the documented defaults", () => {
    expect(load({})).toMatchObject({
      P35_METRICS_PORT: 8046,
      METRICS_HOST: "127.0.0.1",
      ENABLE_SYMBOL_BREAKDOWN: true,
      P35_BATCH_SIZE: 500,
      P35_SNAPSHOT_INTERVAL_SEC: 10,
      P35_ALERT_THRESHOLD_MEDIUM: 0.4,
      P35_ALERT_THRESHOLD_HIGH: 0.6,
      P35_ALERT_THRESHOLD_CRITICAL: 0.8,
      P35_ALERT_MIN_TOTAL: 100,
      P35_ALERT_COOLDOWN: 300,
      P35_START_ID: "0",
      LOG_LEVEL: "info",
      P35_CLAIM_IDLE_MS: 60_000,
      REDIS_HOST: "127.0.0.1",
      REDIS_PORT: 6379,
    });
    expect(load({}).P35_CONSUMER_NAME).toBeUndefined();
  });

  it("accepts fractions, any-case log levels, the Redis alias names and start ids", () => {
    const c = load({
      P35_SNAPSHOT_INTERVAL_SEC: "0.5",
      LOG_LEVEL: "WARNING",
      ENABLE_SYMBOL_BREAKDOWN: "False",
      QUANTUM_REDIS_HOST: "10.0.0.5",
      P35_START_ID: "$",
      P35_CONSUMER_NAME: " p35-a ",
    });
    expect(c).toMatchObject({
      P35_SNAPSHOT_INTERVAL_SEC: 0.5,
      LOG_LEVEL: "warn",
      ENABLE_SYMBOL_BREAKDOWN: false,
      REDIS_HOST: "10.0.0.5",
      P35_START_ID: "$",
      P35_CONSUMER_NAME: "p35-a",
    });
    expect(load({ P35_START_ID: "1769929500123-0" }).P35_START_ID).toBe("1769929500123-0");
  });

  it("reports every problem at once", () => {
    let err: unknown;
    try {
      load({
        P35_BATCH_SIZE: "0",
        P35_ALERT_THRESHOLD_CRITICAL: "1.5",
        P35_START_ID: "latest",
        P35_ALERT_COOLDOWN: "0",
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const issues = (err as ConfigError).issues.join("\n");
    for (const name of [
      "P35_BATCH_SIZE",
      "P35_ALERT_THRESHOLD_CRITICAL",
      "P35_START_ID",
      "P35_ALERT_COOLDOWN",
    ]) {
      expect(issues).toContain(name);
    }
  });

  it("rejects thresholds out of order", () => {
    expect(() => load({ P35_ALERT_THRESHOLD_MEDIUM: "0.7" })).toThrow(/MEDIUM <= HIGH <= CRITICAL/);
  });

  it("describes every variable (the env docs are generated from the schema)", () => {
    const vars = listEnvVars(configSchema);
    expect(vars.map((v) => v.name)).toEqual(
      expect.arrayContaining(["P35_METRICS_PORT", "P35_START_ID", "LOG_LEVEL"]),
    );
    for (const v of vars) expect(v.description, v.name).not.toBe("");
    expect(vars.find((v) => v.name === "P35_ALERT_THRESHOLD_HIGH")?.default).toBe("0.6");
  });
});
