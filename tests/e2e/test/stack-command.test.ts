import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { streams } from "@quantum/contracts";
import type { StackState } from "@quantum/stack";
import { eventually, httpGet } from "@quantum/testkit";
import { Redis } from "ioredis";
import { afterAll, expect, it } from "vitest";
import { ROOT } from "./support.js";

// The README run command on a fresh machine of this kind, with REDIS_URL unset so it
// starts its own redis-server. QUANTUM_SKIP_INSTALL=1 skips only `pnpm install` (bootstrap still checks
// pnpm and redis-server); the build step runs as written.
const dir = mkdtempSync(join(tmpdir(), "quantum-e2e-stack-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

function readState(path: string): StackState | null {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as StackState;
  } catch {
    return null;
  }
}

it("bash scripts/stack.sh --duration 20 produces results, stays healthy, exits 0 and leaves nothing behind", async () => {
  const stateFile = join(dir, "state.json");
  const logDir = join(dir, "logs");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? dir,
    QUANTUM_SKIP_INSTALL: "1",
    TURBO_TELEMETRY_DISABLED: "1",
  };
  const proc = spawn(
    "bash",
    ["scripts/stack.sh", "--duration", "20", "--state-file", stateFile, "--log-dir", logDir],
    { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  proc.stdout.on("data", (d: Buffer) => {
    output += d.toString();
  });
  proc.stderr.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.once("close", (code) => resolve(code)));
  let code: number | null = null;
  void exited.then((c) => {
    code = c;
  });
  const running = (s: StackState | null): s is StackState => s !== null && s.status === "running";

  // Up (bootstrap, build, start): the state file says where everything is.
  const up = await eventually(
    () => {
      if (code !== null) return { exitedEarly: code };
      const s = readState(stateFile);
      return running(s) ? { state: s } : false;
    },
    { timeoutMs: 240_000, intervalMs: 200, message: "stack state file" },
  );
  if ("exitedEarly" in up) throw new Error(`stack.sh exited ${up.exitedEarly} before it was up:\n${output}`);
  const { state } = up;
  expect(state.redis.startedByStack).toBe(true);
  expect(state.redis.pid).not.toBeNull();

  // While it runs: every /health green on every probe, and results appear on apply.result.
  const r = new Redis(state.redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  r.on("error", () => undefined);
  const probes: Array<{ service: string; status: number | string }> = [];
  let results = 0;
  // Probes stop once the supervisor announces that it is stopping (the services then go down on purpose).
  const stopping = () => code !== null || output.includes("[stack] stopping (");
  await eventually(
    async () => {
      if (stopping()) return true;
      for (const [service, s] of Object.entries(state.services)) {
        const status = await httpGet(s.port, "/health").then(
          (h) => h.status,
          (err: unknown) => String(err),
        );
        if (!stopping()) probes.push({ service, status });
      }
      if (!stopping()) results = await r.xlen(streams.applyResult).catch(() => results);
      return false;
    },
    { timeoutMs: 120_000, intervalMs: 500, message: "stack.sh --duration 20 to stop" },
  );
  r.disconnect();
  await eventually(() => code !== null, { timeoutMs: 60_000, message: "stack.sh to exit after stopping" });
  expect(await exited, output.slice(-4000)).toBe(0);
  expect(probes.length).toBeGreaterThan(20);
  expect(probes.filter((p) => p.status !== 200)).toEqual([]);
  expect(results).toBeGreaterThan(0);

  // The supervisor's own record: results produced, health green all along, clean stop.
  const final = readState(stateFile);
  expect(final?.status).toBe("stopped");
  expect(final?.result).toMatchObject({ exitCode: 0, unclean: [] });
  expect(final?.result?.counts?.results).toBeGreaterThanOrEqual(results);
  expect(final?.result?.counts?.plans).toBeGreaterThan(0);
  const health = final?.result?.health;
  expect(health?.rounds).toBeGreaterThan(10);
  expect(health?.greenRounds).toBe(health?.rounds);
  expect(output).toContain("status --watch --redis-url");
  expect(output).toContain("dashboard all --redis-url");

  // Nothing left behind: every process gone, redis-server's port closed, its temp dir removed.
  const names = (final?.processes ?? []).map((p) => p.name).sort();
  expect(names).toEqual(
    [
      "apply-layer",
      "decision-intelligence",
      "demo-feeder",
      "dev-governor",
      "position-state-brain",
      "redis-server",
    ].sort(),
  );
  for (const p of final?.processes ?? []) expect(alive(p.pid), `${p.name} pid ${p.pid}`).toBe(false);
  expect(alive(final?.supervisorPid ?? -1)).toBe(false);
  expect(await portOpen(state.redis.port)).toBe(false);
  expect(existsSync(state.redis.dir ?? "")).toBe(false);
  expect(readdirSync(logDir).sort()).toEqual(names.map((n) => `${n}.log`));
}, 300_000);
