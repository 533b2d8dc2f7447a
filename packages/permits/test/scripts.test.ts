import { fileURLToPath } from "node:url";
import { keys } from "@quantum/contracts";
import {
  LuaScriptLoadError,
  loadScripts,
  luaScriptTable,
  readLuaScripts,
  scriptsLoaded,
} from "@quantum/runtime";
import { startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeConsumeReply, PERMIT_SCRIPTS, UnexpectedScriptReplyError } from "../src/index.js";

let server: TestRedis;

beforeAll(async () => {
  server = await startTestRedis();
});
afterAll(async () => {
  await server.stop();
});

describe("loader", () => {
  it("reads every script from the package's lua dir; each names its key count and documents KEYS/ARGV", () => {
    const sources = readLuaScripts(PERMIT_SCRIPTS);
    for (const [name, def] of Object.entries(PERMIT_SCRIPTS.scripts)) {
      const src = sources[name as keyof typeof sources];
      const n = def.numberOfKeys ?? 0;
      for (let i = 1; i <= n; i++) expect(src, `${name} KEYS[${i}]`).toContain(`KEYS[${i}]`);
      expect(src).toContain("ARGV[1]");
    }
    expect(fileURLToPath(PERMIT_SCRIPTS.dir)).toMatch(/\/packages\/permits\/lua\/$/);
  });

  it("fails fast with a clear error naming the missing file, and defines nothing", () => {
    const nowhere = luaScriptTable(
      new URL("../no-such-lua-dir/", PERMIT_SCRIPTS.dir),
      PERMIT_SCRIPTS.scripts,
    );
    const client = server.client();
    let caught: unknown;
    try {
      loadScripts(client, [nowhere]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(LuaScriptLoadError);
    const e = caught as LuaScriptLoadError;
    expect(e.code).toBe("LUA_SCRIPT_LOAD_FAILED");
    expect(e.path).toMatch(/no-such-lua-dir\/consumePermits-6\.lua$/);
    expect(e.message).toContain("consumePermits-6.lua");
    expect(scriptsLoaded(client, PERMIT_SCRIPTS)).toBe(false);
  });

  it("loading is idempotent per client and the commands run", async () => {
    const client: Redis = server.client();
    loadScripts(client, [PERMIT_SCRIPTS]);
    const first = client.quantumConsumePermits;
    loadScripts(client, [PERMIT_SCRIPTS]);
    expect(client.quantumConsumePermits).toBe(first);
    expect(scriptsLoaded(client, PERMIT_SCRIPTS)).toBe(true);
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
