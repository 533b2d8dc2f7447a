import { execFile, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join, resolve } from "node:path";

/** The repository root (tests/ops/test -> ../../..). */
export const repoRoot = resolve(import.meta.dirname, "../../..");
export const repoPath = (...parts: string[]): string => join(repoRoot, ...parts);
export const readRepoFile = (...parts: string[]): string => readFileSync(repoPath(...parts), "utf8");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run a command without blocking the event loop (tests serve HTTP from this process while deploy.sh runs).
 * Never rejects on a non-zero exit; the exit code is part of the result.
 */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      cmd,
      args,
      {
        cwd: opts.cwd ?? repoRoot,
        env: { ...process.env, ...opts.env },
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        if (err !== null && typeof err.code !== "number") {
          reject(err);
          return;
        }
        resolvePromise({ code: err === null ? 0 : (err.code as number), stdout, stderr });
      },
    );
  });
}

function hasCommand(name: string): boolean {
  return spawnSync("bash", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

let toolsChecked = false;
/** The Alertmanager server: Debian calls it prometheus-alertmanager, upstream alertmanager. */
export function alertmanagerCommand(): string {
  return hasCommand("prometheus-alertmanager") ? "prometheus-alertmanager" : "alertmanager";
}

/**
 * Make sure promtool, prometheus, amtool, alertmanager, systemd-analyze and curl exist: runs
 * scripts/install-test-tools.sh (idempotent) when one is missing, so a fresh CI machine gets them on the first run.
 */
export function ensureTestTools(): void {
  if (toolsChecked) return;
  const missing = [
    "promtool",
    "prometheus",
    "amtool",
    alertmanagerCommand(),
    "systemd-analyze",
    "curl",
  ].filter((t) => !hasCommand(t));
  if (missing.length > 0) {
    const r = spawnSync("bash", [repoPath("scripts/install-test-tools.sh")], { encoding: "utf8" });
    if (r.status !== 0) {
      throw new Error(`scripts/install-test-tools.sh failed (missing: ${missing.join(", ")}): ${r.stderr}`);
    }
  }
  toolsChecked = true;
}

/**
 * A deterministic description of a directory tree: for every entry its type, mode, owner and link target,
 * and for files the sha256 of the content. Timestamps are not part of it.
 */
export function treeSnapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const abs = join(dir, rel);
    const st = lstatSync(abs);
    const mode = (st.mode & 0o7777).toString(8);
    const owner = `${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) {
      out.push(`l ${mode} ${owner} ${rel} -> ${readlinkSync(abs)}`);
    } else if (st.isDirectory()) {
      out.push(`d ${mode} ${owner} ${rel}`);
      for (const name of readdirSync(abs).sort()) walk(rel === "" ? name : `${rel}/${name}`);
    } else {
      const sha = createHash("sha256").update(readFileSync(abs)).digest("hex");
      out.push(`f ${mode} ${owner} ${rel} ${sha}`);
    }
  };
  walk("");
  return out;
}

/** GitHub-style heading anchor: lowercase, punctuation dropped, spaces to dashes. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of markdown.split("\n")) {
    const m = /^#{1,6}\s+(.*?)\s*$/.exec(line);
    if (m === null) continue;
    const slug = (m[1] as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    anchors.add(slug);
  }
  return anchors;
}

export interface ToolProcess {
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM and wait until it has exited (at once when it already has). */
  stop(): Promise<void>;
}

/** Start a host tool (prometheus, alertmanager) in the background, collecting its output. */
export function spawnTool(cmd: string, args: string[]): ToolProcess {
  const proc = spawn(cmd, args);
  let out = "";
  const collect = (d: Buffer): void => {
    out += d.toString();
  };
  proc.stdout.on("data", collect);
  proc.stderr.on("data", collect);
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  return {
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await exited;
    },
  };
}
