import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { keys } from "@quantum/contracts";
import { freePort, startServiceProcess, startTestRedis, type TestRedis } from "@quantum/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt } from "./support.js";

const SERVICE_DIR = fileURLToPath(new URL("..", import.meta.url));

let redis: TestRedis;
let install: string;

beforeAll(async () => {
  assertBuilt();
  redis = await startTestRedis();
  // A copy of the built service whose lua/ lacks one script: a broken install.
  install = mkdtempSync(join(tmpdir(), "p35-install-"));
  for (const part of ["dist", "lua", "package.json"])
    cpSync(join(SERVICE_DIR, part), join(install, part), { recursive: true });
  rmSync(join(install, "lua", "raiseAlert-2.lua"));
  symlinkSync(join(SERVICE_DIR, "node_modules"), join(install, "node_modules"), "dir");
});
afterAll(async () => {
  rmSync(install, { recursive: true, force: true });
  await redis.stop();
});

describe("P3.5 start-up with a missing Lua script", () => {
  it("refuses to start, naming the file, with a non-zero exit", async () => {
    const p = startServiceProcess({
      entry: join(install, "dist", "main.js"),
      env: { REDIS_URL: redis.url(0), P35_METRICS_PORT: String(await freePort()), LOG_LEVEL: "warn" },
    });
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toContain("cannot load Lua script");
    expect(p.stderr()).toContain(join(install, "lua", "raiseAlert-2.lua"));
    // it stopped before doing any work: no status written
    expect(await redis.client(0).exists(keys.p35Status)).toBe(0);
  });
});
