import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoPath, run } from "./helpers.js";

const SCRIPT = repoPath("ops/p35_dashboard_queries.sh");
/** A quantumctl stand-in that prints its arguments as JSON. */
const ECHO_ARGS = `console.log(JSON.stringify(process.argv.slice(2)));\n`;

describe("ops/p35_dashboard_queries.sh", () => {
  let dir = "";
  let binDir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "quantum-dash-"));
    binDir = join(dir, "bin");
    mkdirSync(binDir);
    const fake = join(binDir, "quantumctl");
    writeFileSync(fake, `#!${process.execPath}\n${ECHO_ARGS}`);
    chmodSync(fake, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const withFakeOnPath = (extra: Record<string, string | undefined> = {}) => ({
    PATH: `${binDir}:${process.env.PATH}`,
    REDIS_URL: undefined,
    QUANTUMCTL: undefined,
    ...extra,
  });

  it.each(["a", "b", "c", "d", "e", "all"])("query %s calls quantumctl dashboard %s", async (q) => {
    const r = await run("bash", [SCRIPT, q], { env: withFakeOnPath() });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(["dashboard", q]);
  });

  it("defaults to all and passes the argument and REDIS_URL through", async () => {
    const none = await run("bash", [SCRIPT], { env: withFakeOnPath() });
    expect(JSON.parse(none.stdout)).toEqual(["dashboard", "all"]);
    const r = await run("bash", [SCRIPT, "b", "BTCUSDT SOLUSDT", "--json"], {
      env: withFakeOnPath({ REDIS_URL: "redis://127.0.0.1:6390/2" }),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      "dashboard",
      "b",
      "BTCUSDT SOLUSDT",
      "--json",
      "--redis-url",
      "redis://127.0.0.1:6390/2",
    ]);
  });

  it("rejects an unknown query without calling quantumctl", async () => {
    const r = await run("bash", [SCRIPT, "z"], { env: withFakeOnPath() });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("unknown query");
  });

  it("falls back to the CLI of the deploy tree it sits in when quantumctl is not on PATH", async () => {
    const tree = join(dir, "release");
    mkdirSync(join(tree, "ops"), { recursive: true });
    mkdirSync(join(tree, "packages/cli/dist"), { recursive: true });
    copyFileSync(SCRIPT, join(tree, "ops/p35_dashboard_queries.sh"));
    writeFileSync(join(tree, "packages/cli/dist/main.js"), ECHO_ARGS);
    const r = await run("bash", [join(tree, "ops/p35_dashboard_queries.sh"), "d", "50"], {
      env: { PATH: "/usr/bin:/bin", NODE: process.execPath, REDIS_URL: undefined, QUANTUMCTL: undefined },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(["dashboard", "d", "50"]);
  });
});
