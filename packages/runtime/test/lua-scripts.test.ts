import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Result } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  defineLuaScripts,
  LuaScriptLoadError,
  loadLuaScripts,
  luaScriptsDefined,
  readLuaScript,
} from "../src/index.js";

declare module "ioredis" {
  interface RedisCommander<Context> {
    testDouble(key: string, n: string): Result<number, Context>;
  }
}

describe("lua script loader", () => {
  let redis: TestRedis;
  let dir: string;
  let dirUrl: URL;
  const specs = { double: { file: "double-1.lua", command: "testDouble", numberOfKeys: 1 } } as const;

  beforeAll(async () => {
    redis = await startTestRedis();
    dir = mkdtempSync(join(tmpdir(), "lua-"));
    mkdirSync(join(dir, "includes"));
    writeFileSync(join(dir, "includes", "twice.lua"), "local function twice(n)\n  return n * 2\nend\n");
    writeFileSync(
      join(dir, "double-1.lua"),
      '-- @include "twice.lua"\nlocal v = twice(tonumber(ARGV[1]))\nredis.call("SET", KEYS[1], v)\nreturn v\n',
    );
    writeFileSync(join(dir, "broken-0.lua"), '-- @include "absent.lua"\nreturn 1\n');
    dirUrl = pathToFileURL(`${dir}/`);
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await redis.stop();
  });

  it("replaces include lines with the included file and the script runs on real Redis", async () => {
    const text = readLuaScript(dirUrl, "double-1.lua");
    expect(text).toContain("local function twice(n)");
    expect(text).not.toContain("@include");
    const client = redis.client();
    defineLuaScripts(client, specs, loadLuaScripts(dirUrl, specs));
    expect(luaScriptsDefined(client, specs)).toBe(true);
    expect(await client.testDouble("k", "21")).toBe(42);
    expect(await client.get("k")).toBe("42");
  });

  it("names a missing script or include in a typed error", () => {
    expect(() => readLuaScript(dirUrl, "nope-1.lua")).toThrow(LuaScriptLoadError);
    try {
      readLuaScript(dirUrl, "broken-0.lua");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(LuaScriptLoadError);
      expect((err as LuaScriptLoadError).path).toMatch(/includes\/absent\.lua$/);
    }
  });

  it("defines nothing when a client never registered", () => {
    expect(luaScriptsDefined(redis.client(), specs)).toBe(false);
  });
});
