import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Result } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LuaScriptLoadError,
  loadScripts,
  luaCommandName,
  luaScriptFile,
  luaScriptTable,
  RUNTIME_SCRIPTS,
  readLuaScript,
  readLuaScripts,
  scriptsLoaded,
} from "../src/index.js";

declare module "ioredis" {
  interface RedisCommander<Context> {
    quantumDouble(key: string, n: string): Result<number, Context>;
    quantumTriple(key: string, n: string): Result<number, Context>;
  }
}

describe("lua script loader", () => {
  let redis: TestRedis;
  let dir: string;
  let dirUrl: URL;

  beforeAll(async () => {
    redis = await startTestRedis();
    dir = mkdtempSync(join(tmpdir(), "lua-"));
    mkdirSync(join(dir, "includes"));
    writeFileSync(join(dir, "includes", "twice.lua"), "local function twice(n)\n  return n * 2\nend\n");
    writeFileSync(
      join(dir, "double-1.lua"),
      '-- @include "twice.lua"\nlocal v = twice(tonumber(ARGV[1]))\nredis.call("SET", KEYS[1], v)\nreturn v\n',
    );
    writeFileSync(join(dir, "triple-1.lua"), "return tonumber(ARGV[1]) * 3\n");
    writeFileSync(join(dir, "broken-0.lua"), '-- @include "absent.lua"\nreturn 1\n');
    writeFileSync(join(dir, "empty-0.lua"), "\n");
    dirUrl = pathToFileURL(`${dir}/`);
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await redis.stop();
  });

  it("derives file and command names from the table key", () => {
    expect(luaScriptFile("double", { numberOfKeys: 1 })).toBe("double-1.lua");
    expect(luaScriptFile("applyBatch", {})).toBe("applyBatch.lua");
    expect(luaCommandName("double")).toBe("quantumDouble");
  });

  it("replaces include lines with the included file and the script runs on real Redis", async () => {
    const text = readLuaScript(dirUrl, "double-1.lua");
    expect(text).toContain("local function twice(n)");
    expect(text).not.toContain("@include");
    const client = redis.client();
    const table = luaScriptTable(dirUrl, { double: { numberOfKeys: 1 } });
    loadScripts(client, [table]);
    expect(scriptsLoaded(client, table)).toBe(true);
    loadScripts(client, [table]); // again: a no-op
    expect(await client.quantumDouble("k", "21")).toBe(42);
    expect(await client.get("k")).toBe("42");
  });

  it("names a missing script, a missing include or an empty file in a typed error", () => {
    expect(() => readLuaScript(dirUrl, "nope-1.lua")).toThrow(LuaScriptLoadError);
    expect(() => readLuaScripts(luaScriptTable(dirUrl, { empty: { numberOfKeys: 0 } }))).toThrow(/empty/);
    try {
      readLuaScript(dirUrl, "broken-0.lua");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(LuaScriptLoadError);
      expect((err as LuaScriptLoadError).path).toMatch(/includes\/absent\.lua$/);
    }
  });

  it("a table with one missing file defines none of the tables passed with it", () => {
    const client = redis.client();
    const good = luaScriptTable(dirUrl, { triple: { numberOfKeys: 1 } });
    const bad = luaScriptTable(dirUrl, { double: { numberOfKeys: 1 }, missing: { numberOfKeys: 2 } });
    let caught: unknown;
    try {
      loadScripts(client, [good, bad]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(LuaScriptLoadError);
    expect((caught as LuaScriptLoadError).path).toMatch(/missing-2\.lua$/);
    expect(scriptsLoaded(client, good)).toBe(false);
    expect(typeof client.quantumTriple).toBe("undefined");
  });

  it("refuses two tables that define one command name from different files", () => {
    const other = mkdtempSync(join(tmpdir(), "lua-other-"));
    try {
      writeFileSync(join(other, "double-1.lua"), "return 0\n");
      const client = redis.client();
      const a = luaScriptTable(dirUrl, { double: { numberOfKeys: 1 } });
      const b = luaScriptTable(pathToFileURL(`${other}/`), { double: { numberOfKeys: 1 } });
      expect(() => loadScripts(client, [a, b])).toThrow(/quantumDouble is defined twice/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it("this package's own table reads from the shipped lua dir", () => {
    expect(Object.keys(readLuaScripts(RUNTIME_SCRIPTS))).toEqual(["claimHeartbeat", "compareAndDelete"]);
    expect(scriptsLoaded(redis.client(), RUNTIME_SCRIPTS)).toBe(false);
  });
});
