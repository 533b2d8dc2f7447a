import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, freePort, startServiceProcess } from "@quantum/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoPath, run } from "./helpers.js";
import { SERVICES } from "./units.js";

// `node services/<dir>/dist/main.js --check-config --env-file FILE` through the real built entry points: the
// shipped example validates (exit 0), a broken file lists every problem (exit 2), and neither opens a
// connection: REDIS_PORT points at a listener that counts the connections it gets.

/** Per service, broken values and the variable each problem must name. */
const BROKEN: Record<string, Record<string, string>> = {
  "apply-layer": { APPLY_MODE: "turbo", APPLY_PERMIT_WAIT_MS: "soon", PROMETHEUS_PORT: "70000" },
  "position-state-brain": { P33_EXCHANGE: "moon", P33_POLL_SEC: "often", P33_METRICS_PORT: "abc" },
  "decision-intelligence": { P35_BATCH_SIZE: "many", P35_ALERT_MIN_TOTAL: "-5", P35_METRICS_PORT: "70000" },
};

/** The service's shipped example with some variables replaced (or added). */
function envFile(env: string, set: Record<string, string>): string {
  const lines = readFileSync(repoPath(`etc/quantum/${env}.env.example`), "utf8").split("\n");
  const out = lines.filter((l) => !Object.keys(set).some((k) => l.startsWith(`${k}=`)));
  return `${[...out, ...Object.entries(set).map(([k, v]) => `${k}=${v}`)].join("\n")}\n`;
}

describe("--check-config", () => {
  let dir = "";
  let listener: Server | undefined;
  let redisPort = 0;
  let connections = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "quantum-check-config-"));
    redisPort = await freePort();
    listener = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener?.listen(redisPort, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => (listener ? listener.close(() => resolve()) : resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const check = (s: (typeof SERVICES)[number], file: string) =>
    run(
      process.execPath,
      [repoPath("services", s.dir, "dist/main.js"), "--check-config", "--env-file", file],
      {
        // only what systemd would pass: no REDIS_* or service variables from the test's environment
        env: Object.fromEntries(Object.keys(process.env).map((k) => [k, undefined])),
        timeoutMs: 20_000,
      },
    );

  it.each(SERVICES)("$dir: the shipped example validates (exit 0) and nothing connects", async (s) => {
    const file = join(dir, `${s.env}.ok.env`);
    writeFileSync(file, envFile(s.env, { REDIS_PORT: String(redisPort) }));
    const r = await check(s, file);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toBe(`${s.dir}: configuration OK\n`);
    expect(connections).toBe(0);
  });

  it.each(SERVICES)("$dir: a broken file lists every problem, exits 2 and connects nowhere", async (s) => {
    const broken = BROKEN[s.dir] ?? {};
    const file = join(dir, `${s.env}.bad.env`);
    writeFileSync(file, envFile(s.env, { ...broken, REDIS_PORT: String(redisPort) }));
    const r = await check(s, file);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain(`${s.dir}: invalid configuration (${Object.keys(broken).length} problems):`);
    for (const name of Object.keys(broken)) expect(r.stderr).toMatch(new RegExp(`^ {2}- ${name}: `, "m"));
    expect(r.stdout).toBe("");
    expect(connections).toBe(0);
  });

  // Node 20 itself also reads --env-file after the script name and exits 9 on a missing file; either way the
  // check fails and names the file.
  it("a missing env file fails the check and names the file", async () => {
    const s = SERVICES[0];
    const r = await check(s, join(dir, "nowhere.env"));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(join(dir, "nowhere.env"));
    expect(r.stdout).not.toContain("configuration OK");
  });

  // The listener does count: the same valid file without --check-config makes the service connect.
  it("without --check-config the same file makes the service connect to the listener", async () => {
    const s = SERVICES[2];
    const file = join(dir, `${s.env}.ok.env`);
    writeFileSync(
      file,
      envFile(s.env, { REDIS_PORT: String(redisPort), [s.portVar]: String(await freePort()) }),
    );
    const proc = startServiceProcess({
      entry: repoPath("services", s.dir, "dist/main.js"),
      args: ["--env-file", file],
    });
    try {
      await eventually(() => connections > 0, { timeoutMs: 15_000, message: "a connection to the listener" });
    } finally {
      await proc.kill();
      connections = 0;
    }
  });
});
