import { ConfigError, loadConfig } from "@quantum/runtime";
import { describe, expect, it } from "vitest";
import { P33_ENV_ALIASES, p33ConfigSchema } from "../src/config.js";

const load = (env: Record<string, string>) => loadConfig(p33ConfigSchema, { env, aliases: P33_ENV_ALIASES });

describe("P3.3 config", () => {
  it("takes 10 % of the venue's rate limits unless EXCHANGE_RATE_LIMIT_SHARE_PCT says otherwise", () => {
    expect(load({}).EXCHANGE_RATE_LIMIT_SHARE_PCT).toBe(10);
    expect(load({ EXCHANGE_RATE_LIMIT_SHARE_PCT: "25" }).EXCHANGE_RATE_LIMIT_SHARE_PCT).toBe(25);
    for (const bad of ["0", "101"]) {
      expect(() => load({ EXCHANGE_RATE_LIMIT_SHARE_PCT: bad })).toThrow(ConfigError);
    }
  });
});
