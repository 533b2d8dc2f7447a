import { ConfigError, loadConfig } from "@quantum/runtime";
import { describe, expect, it } from "vitest";
import { P33_ENV_ALIASES, p33ConfigSchema, venueProblem } from "../src/config.js";

const load = (env: Record<string, string>) => loadConfig(p33ConfigSchema, { env, aliases: P33_ENV_ALIASES });

describe("P3.3 config", () => {
  it("takes 10 % of the venue's rate limits unless EXCHANGE_RATE_LIMIT_SHARE_PCT says otherwise", () => {
    expect(load({}).EXCHANGE_RATE_LIMIT_SHARE_PCT).toBe(10);
    expect(load({ EXCHANGE_RATE_LIMIT_SHARE_PCT: "25" }).EXCHANGE_RATE_LIMIT_SHARE_PCT).toBe(25);
    for (const bad of ["0", "101"]) {
      expect(() => load({ EXCHANGE_RATE_LIMIT_SHARE_PCT: bad })).toThrow(ConfigError);
    }
  });

  it("refuses a live venue whose poll interval needs more request weight than its share", () => {
    const live = {
      P33_EXCHANGE: "testnet",
      BINANCE_TESTNET_API_KEY: "k",
      BINANCE_TESTNET_API_SECRET: "s",
    };
    expect(venueProblem(load(live))).toBeNull(); // every 5 s: 60 of 240
    expect(venueProblem(load({ ...live, P33_POLL_SEC: "1.25" }))).toBeNull(); // 240 of 240
    expect(venueProblem(load({ ...live, P33_POLL_SEC: "0.2" }))).toBe(
      "P33_POLL_SEC=0.2 needs 1500 request weight per minute for the positions calls, EXCHANGE_RATE_LIMIT_SHARE_PCT=10 gives 240 of the venue's 2400: raise the share or the interval",
    );
    expect(
      venueProblem(load({ ...live, P33_POLL_SEC: "0.2", EXCHANGE_RATE_LIMIT_SHARE_PCT: "70" })),
    ).toBeNull();
    expect(venueProblem(load({ P33_POLL_SEC: "0.2" }))).toBeNull(); // paper: no venue limits
  });
});
