import { keys } from "@quantum/contracts";
import { startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_LUA_DIR,
  decodeConsumeReply,
  loadPermitScripts,
  PERMIT_SCRIPTS,
  PermitScriptLoadError,
  permitScriptsRegistered,
  registerPermitScripts,
  UnexpectedScriptReplyError,
} from "../src/index.js";

let server: TestRedis;

beforeAll(async () => {
  server = await startTestRedis();
});
afterAll(async () => {
  await server.stop();
});

describe("loader", () => {
  it("reads every script from the package's lua dir; each names its key count and documents KEYS/ARGV", () => {
    const sources = loadPermitScripts();
    for (const [name, def] of Object.entries(PERMIT_SCRIPTS)) {
      const src = sources[name as keyof typeof sources];
      expect(def.file).toMatch(new RegExp(`^${name}-${def.numberOfKeys}\\.lua$`));
      for (let i = 1; i <= def.numberOfKeys; i++) expect(src, `${name} KEYS[${i}]`).toContain(`KEYS[${i}]`);
      expect(src).toContain("ARGV[1]");
    }
    expect(DEFAULT_LUA_DIR.pathname).toMatch(/\/packages\/permits\/lua\/$/);
  });

  it("fails fast with a clear error naming the missing file", () => {
    const nowhere = new URL("../no-such-lua-dir/", DEFAULT_LUA_DIR);
    let caught: unknown;
    try {
      loadPermitScripts(nowhere);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PermitScriptLoadError);
    const e = caught as PermitScriptLoadError;
    expect(e.code).toBe("PERMIT_SCRIPT_LOAD_FAILED");
    expect(e.path).toMatch(/no-such-lua-dir\/consumePermits-6\.lua$/);
    expect(e.message).toContain("consumePermits-6.lua");

    const client = server.client();
    expect(() => registerPermitScripts(client, { luaDir: nowhere })).toThrow(PermitScriptLoadError);
    expect(permitScriptsRegistered(client)).toBe(false);
  });

  it("registerPermitScripts is idempotent per client and the commands run", async () => {
    const client: Redis = server.client();
    registerPermitScripts(client);
    const first = client.quantumConsumePermits;
    registerPermitScripts(client);
    expect(client.quantumConsumePermits).toBe(first);
    expect(permitScriptsRegistered(client)).toBe(true);
    await client.set(keys.killSwitch, "true");
    const reply = await client.quantumConsumePermits(
      keys.governorPermit("p1"),
      keys.p33Permit("p1"),
      keys.killSwitch,
      keys.tradingState,
      keys.execRecord("p1"),
      keys.execOpen,
      String(Date.now()),
      "1",
      "60",
      "p1",
      "BTCUSDT",
    );
    expect(reply).toEqual(["kill_switch_active", null, null, -2, -2]);
    expect(decodeConsumeReply(reply)).toEqual({ outcome: "kill_switch_active" });
  });

  it("the decoder rejects unknown codes and malformed replies", () => {
    for (const bad of [
      ["exploded", null, null, -2, -2],
      "ok",
      null,
      ["ok", null, null, -2, -2],
      ["missing_p33"],
    ]) {
      expect(() => decodeConsumeReply(bad)).toThrow(UnexpectedScriptReplyError);
    }
  });
});
