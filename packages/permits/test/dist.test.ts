import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { keys } from "@quantum/contracts";
import { loadScripts, readLuaScripts } from "@quantum/runtime";
import { startTestRedis, type TestRedis } from "@quantum/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newPlanId, setPermits } from "./helpers.js";

type PermitsModule = typeof import("../src/index.js");

const distEntry = new URL("../dist/index.js", import.meta.url);
let server: TestRedis;

beforeAll(async () => {
  server = await startTestRedis();
});
afterAll(async () => {
  await server.stop();
});

describe("the built package (run `pnpm --filter @quantum/permits build` first)", () => {
  it("dist/index.js resolves the lua dir next to dist and runs the scripts", async () => {
    expect(existsSync(distEntry), `${fileURLToPath(distEntry)} is missing: build the package`).toBe(true);
    const mod = (await import(distEntry.href)) as PermitsModule;
    expect(fileURLToPath(mod.PERMIT_SCRIPTS.dir)).toBe(fileURLToPath(new URL("../lua/", import.meta.url)));
    const sources = readLuaScripts(mod.PERMIT_SCRIPTS);
    expect(Object.keys(sources)).toEqual([
      "consumePermits",
      "claimExecution",
      "transitionExec",
      "beginSubmit",
    ]);
    // the include is resolved from the shipped lua/includes dir
    expect(sources.beginSubmit).toContain("local function killSwitchHalts(value, missingHalts)");

    const redis = server.client();
    loadScripts(redis, [mod.PERMIT_SCRIPTS]);
    await redis.set(keys.killSwitch, "off");
    const planId = newPlanId();
    await setPermits(redis, planId);
    const res = await mod.consumePermits(redis, {
      planId,
      symbol: "BTCUSDT",
      mode: "production",
      execRecordTtlSec: 60,
    });
    expect(res.outcome).toBe("ok");
    const tr = await mod.transitionExec(redis, { planId, expected: "CLAIMED", next: "SUBMITTING" });
    expect(tr).toEqual({ outcome: "ok", previousState: "CLAIMED" });
  });

  it("ships lua/ in the package files and the ioredis augmentation in the types", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      files: string[];
    };
    expect(pkg.files).toEqual(expect.arrayContaining(["dist", "lua"]));
    const dts = readFileSync(new URL("../dist/index.d.ts", import.meta.url), "utf8");
    expect(dts).toContain('declare module "ioredis"');
    expect(dts).toContain("quantumConsumePermits(");
  });
});
