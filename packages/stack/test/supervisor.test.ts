import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { keys } from "@quantum/contracts";
import { eventually, startTestRedis, type TestRedis } from "@quantum/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StackStartError, type StackState, startStack } from "../src/index.js";

// The supervisor with the real services (built dist/ of services/* and packages/devtools).
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
let redis: TestRedis;
const dir = mkdtempSync(join(tmpdir(), "stack-sup-"));

beforeAll(async () => {
  redis = await startTestRedis({ notifyKeyspaceEvents: "" });
});
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("startStack", () => {
  it("a process that dies stops the whole stack with exit 1; an existing Redis gets notifications and is left running", async () => {
    const lines: string[] = [];
    const stack = await startStack({
      root: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, REDIS_URL: redis.url(0) },
      out: (l) => lines.push(l),
      feeder: false,
      logLevel: "warn",
      preferDefaultPorts: false,
    });
    const probe = redis.client();
    const flags = ((await probe.config("GET", "notify-keyspace-events")) as string[])[1] ?? "";
    expect(flags).toContain("K");
    expect(flags).toContain("A");
    expect(lines.some((l) => l.includes("keyspace notifications switched on"))).toBe(true);
    const pids = stack.state().processes;
    expect(pids.map((p) => p.name).sort()).toEqual(
      ["apply-layer", "decision-intelligence", "dev-governor", "position-state-brain"].sort(),
    );

    process.kill(stack.pid("dev-governor") ?? -1, "SIGKILL");
    const result = await stack.done;
    expect(result.exitCode).toBe(1);
    expect(result.reason).toBe("dev-governor exited unexpectedly (signal SIGKILL)");
    expect(stack.state().status).toBe("stopped");
    for (const p of pids) expect(alive(p.pid), p.name).toBe(false);
    expect(await probe.ping()).toBe("PONG");
  }, 60_000);

  it("refuses an existing Redis that a production Apply Layer reports to", async () => {
    const r = redis.client(5);
    await r.hset(keys.serviceStatus("apply-layer"), { service: "apply-layer", mode: "production" });
    const err = await startStack({
      root: ROOT,
      env: { PATH: process.env.PATH, REDIS_URL: redis.url(5) },
      out: () => undefined,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StackStartError);
    expect(String(err)).toMatch(/production mode reports to this Redis/);
    expect(await r.exists(keys.positionSnapshot("BTCUSDT"), keys.serviceStatus("position-state-brain"))).toBe(
      0,
    );
  });

  it("refuses to start when the services are not built, before starting anything", async () => {
    const lines: string[] = [];
    const err = await startStack({
      root: dir,
      env: { PATH: process.env.PATH },
      out: (l) => lines.push(l),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StackStartError);
    expect(String(err)).toMatch(/missing: run pnpm build first/);
  });
});

describe("the supervisor command (dist/main.js)", () => {
  it("Ctrl-C (SIGINT) stops every process it started, removes its redis-server and temp dir, exit 0", async () => {
    const stateFile = join(dir, "state.json");
    const p = spawn(
      process.execPath,
      [MAIN, "--no-feeder", "--state-file", stateFile, "--log-dir", join(dir, "logs")],
      {
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => p.once("close", (code) => resolve(code)));
    const state = await eventually(
      () => {
        const s = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, "utf8")) as StackState) : null;
        return s?.status === "running" ? s : false;
      },
      { timeoutMs: 45_000, message: "stack up" },
    );
    expect(state.redis.startedByStack).toBe(true);
    p.kill("SIGINT");
    expect(await exited, out).toBe(0);
    const final = JSON.parse(readFileSync(stateFile, "utf8")) as StackState;
    expect(final.result).toMatchObject({ exitCode: 0, unclean: [] });
    expect(final.result?.reason).toMatch(/interrupted \(SIGINT\)/);
    for (const proc of final.processes) expect(alive(proc.pid), proc.name).toBe(false);
    expect(existsSync(state.redis.dir ?? "")).toBe(false);
    expect(out).toContain(`status --watch --redis-url ${state.redis.url}`);
  }, 90_000);

  it("usage errors exit 2; --help exits 0", async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const p = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        p.stdout.on("data", (d: Buffer) => {
          out += d.toString();
        });
        p.stderr.on("data", (d: Buffer) => {
          out += d.toString();
        });
        p.once("close", (code) => resolve({ code, out }));
      });
    const bad = await run(["--symbols", "NOPEUSDT"]);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain("NOPEUSDT has no paper exchange rules");
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("Usage: bash scripts/stack.sh");
  });
});
