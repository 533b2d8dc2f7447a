import { type ChildProcess, spawn } from "node:child_process";
import { eventually } from "./eventually.js";

export interface ServiceProcessOptions {
  /** Path to the compiled entry (e.g. services/apply-layer/dist/main.js). */
  entry: string;
  env?: Record<string, string | undefined>;
  args?: string[];
  cwd?: string;
  /** Keep the parent's environment (default false: only PATH/HOME plus `env`). */
  inheritEnv?: boolean;
}

export interface ServiceProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Everything the process wrote to stdout so far (JSON log lines). */
  stdout(): string;
  stderr(): string;
  /** Parsed JSON log lines of stdout (lines that are not JSON are skipped). */
  logs(): Array<Record<string, unknown>>;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(timeoutMs?: number): Promise<number | string>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<number | string>;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const p of running) p.kill("SIGKILL");
});

/** Start a real service process (`node <entry>`), capturing its output. */
export function startServiceProcess(opts: ServiceProcessOptions): ServiceProcess {
  const baseEnv: Record<string, string | undefined> = opts.inheritEnv
    ? { ...process.env }
    : { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR };
  const env = Object.fromEntries(
    Object.entries({ ...baseEnv, ...opts.env }).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const proc = spawn(process.execPath, [opts.entry, ...(opts.args ?? [])], {
    env,
    cwd: opts.cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(proc);
  let out = "";
  let err = "";
  proc.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | string>((resolve) => {
    proc.once("exit", (code, signal) => {
      running.delete(proc);
      resolve(code ?? signal ?? -1);
    });
  });
  const waitExit = async (signal: NodeJS.Signals, timeoutMs: number): Promise<number | string> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return exited;
    proc.kill(signal);
    const t = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    t.unref();
    const code = await exited;
    clearTimeout(t);
    return code;
  };
  return {
    proc,
    pid: proc.pid ?? -1,
    stdout: () => out,
    stderr: () => err,
    logs: () =>
      out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    exited,
    stop: (timeoutMs = 15_000) => waitExit("SIGTERM", timeoutMs),
    kill: () => waitExit("SIGKILL", 5_000),
  };
}

/** GET a path on a loopback port; returns status and body (never throws on HTTP status). */
export async function httpGet(
  port: number,
  path: string,
  host = "127.0.0.1",
): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${host}:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text() };
}

/** Wait until `/health` on the port answers 200. */
export async function waitHealthy(port: number, timeoutMs = 20_000): Promise<void> {
  await eventually(
    async () => {
      const r = await httpGet(port, "/health");
      if (r.status !== 200) throw new Error(`health ${r.status}: ${r.body}`);
      return true;
    },
    { timeoutMs, intervalMs: 50, message: `health on :${port}` },
  );
}

/**
 * Wait until a started service answers 200 on `/health` and then `/ready`. On failure the process is killed
 * (unless `keepOnFailure`) and the error carries its last output, so a broken start explains itself.
 */
export async function waitServiceReady(
  proc: ServiceProcess,
  port: number,
  opts: { healthTimeoutMs?: number; readyTimeoutMs?: number; keepOnFailure?: boolean } = {},
): Promise<void> {
  try {
    await waitHealthy(port, opts.healthTimeoutMs ?? 20_000);
    await eventually(
      async () => {
        const r = await httpGet(port, "/ready");
        if (r.status !== 200) throw new Error(`ready ${r.status}: ${r.body}`);
        return true;
      },
      { timeoutMs: opts.readyTimeoutMs ?? 15_000, intervalMs: 50, message: `ready on :${port}` },
    );
  } catch (err) {
    if (opts.keepOnFailure !== true) await proc.kill();
    throw new Error(
      `service not ready: ${String(err)}\nstderr: ${proc.stderr().slice(-3000)}\nstdout: ${proc.stdout().slice(-3000)}`,
    );
  }
}

/** Scrape `/metrics` on a loopback port. */
export async function scrapeMetrics(port: number, host = "127.0.0.1"): Promise<string> {
  const r = await httpGet(port, "/metrics", host);
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
  return r.body;
}

/**
 * The value of one sample in Prometheus text: `metricValue(text, "apply_executed_total", {status: "success"})`.
 * Labels given must all match; other labels are ignored. Sums over matching series. Returns 0 when absent.
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line === "") continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (m === null || m[1] !== name) continue;
    const lbls: Record<string, string> = {};
    for (const pair of (m[3] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      lbls[pair[1] as string] = pair[2] as string;
    }
    if (Object.entries(labels).every(([k, v]) => lbls[k] === v)) sum += Number(m[4]);
  }
  return sum;
}

/** Whether a metric family is present at all (a `# TYPE` or a sample line). */
export function hasMetric(text: string, name: string): boolean {
  return text
    .split("\n")
    .some((l) => l.startsWith(`# TYPE ${name} `) || l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}
