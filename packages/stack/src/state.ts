import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HealthStats } from "./health-monitor.js";
import { QUANTUMCTL_ENTRY, type ServiceName } from "./services.js";
import { countsText, type RunCounts } from "./summary.js";

export interface StackRedisInfo {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** pid of the redis-server the stack started; null for an existing Redis (REDIS_URL). */
  readonly pid: number | null;
  readonly startedByStack: boolean;
  /** Temporary data dir of the stack's redis-server (removed on exit). */
  readonly dir: string | null;
}

export interface StackServiceInfo {
  readonly pid: number | null;
  readonly port: number;
  readonly metricsUrl: string;
  readonly healthUrl: string;
}

export interface StackResult {
  /** 0 stopped normally; 1 a process died, could not start, or did not stop cleanly. */
  readonly exitCode: 0 | 1;
  readonly reason: string;
  readonly counts: RunCounts | null;
  readonly health: HealthStats;
  /** Processes that ended badly while stopping (non-zero exit, or SIGKILL after the timeout). */
  readonly unclean: readonly string[];
  readonly durationSec: number;
}

/** What `--state-file` holds: written once the stack is up, rewritten with `result` when it stopped. */
export interface StackState {
  readonly status: "running" | "stopped";
  readonly supervisorPid: number;
  readonly startedAt: string;
  readonly root: string;
  readonly symbols: readonly string[];
  readonly redis: StackRedisInfo;
  readonly services: Readonly<Record<ServiceName, StackServiceInfo>>;
  /** Every process the stack started (restarts included), so a caller can check none is left. */
  readonly processes: ReadonlyArray<{ readonly name: string; readonly pid: number }>;
  readonly logDir: string | null;
  readonly quantumctl: string;
  readonly result: StackResult | null;
}

export function quantumctlCommand(root: string, redisUrl: string): string {
  return `node ${join(root, QUANTUMCTL_ENTRY)} --redis-url ${redisUrl}`;
}

/** Write JSON atomically (temp file + rename), so a reader never sees half a file. */
export function writeStateFile(path: string, state: StackState): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, path);
}

export interface BannerInput {
  readonly root: string;
  readonly redis: StackRedisInfo;
  readonly services: Readonly<Record<ServiceName, StackServiceInfo>>;
  readonly governorPid: number | null;
  readonly feeder: {
    readonly pid: number | null;
    readonly symbols: readonly string[];
    readonly intervalSec: number;
  };
  readonly symbols: readonly string[];
  readonly logDir: string | null;
  readonly durationSec: number | null;
}

/** The lines printed once the stack is up: where everything is and how to look at it. */
export function bannerLines(b: BannerInput): string[] {
  const ctl = `node ${join(b.root, QUANTUMCTL_ENTRY)}`;
  const url = b.redis.url;
  const redisNote = b.redis.startedByStack
    ? `redis-server pid ${b.redis.pid}, started by the stack, data in ${b.redis.dir} (removed on exit)`
    : "existing Redis from REDIS_URL (left running)";
  const lines = [
    "Quantum P3 local stack is up - paper mode, nothing reaches a real exchange",
    `  ${"redis".padEnd(22)} ${url}  (${redisNote})`,
  ];
  for (const [name, s] of Object.entries(b.services)) {
    lines.push(`  ${name.padEnd(22)} metrics ${s.metricsUrl}  health ${s.healthUrl}  pid ${s.pid ?? "-"}`);
  }
  lines.push(
    `  ${"dev-governor".padEnd(22)} ${b.governorPid !== null ? `pid ${b.governorPid} (auto-approves EXECUTE plans)` : "not started"}`,
    `  ${"demo-feeder".padEnd(22)} ${
      b.feeder.pid !== null
        ? `pid ${b.feeder.pid} (${b.feeder.symbols.join(" ")} every ${b.feeder.intervalSec} s)`
        : "not started"
    }`,
    `  ${"symbols".padEnd(22)} ${b.symbols.join(" ")} (allowlists of the Apply Layer and P3.3)`,
    "Watch it:",
    `  ${ctl} status --watch --redis-url ${url}`,
    "Dashboards (the P3.5 queries a-e):",
    `  ${ctl} dashboard all --redis-url ${url}`,
    `  REDIS_URL=${url} bash ${join(b.root, "ops/p35_dashboard_queries.sh")} a`,
    "Kill switch:",
    `  ${ctl} kill on --reason "why" --redis-url ${url}    (kill off --redis-url ... to resume)`,
    b.logDir !== null ? `Logs: ${b.logDir}/<name>.log` : "Logs: below, one prefixed line per process line",
    b.durationSec !== null
      ? `Stops by itself after ${b.durationSec} s; Ctrl-C stops everything the stack started.`
      : "Ctrl-C stops everything the stack started.",
  );
  return lines;
}

/** The closing lines: what the run produced, whether health stayed green, how it ended. */
export function summaryLines(r: StackResult): string[] {
  const lines: string[] = [];
  if (r.counts !== null) {
    const c = r.counts;
    const byDecision = c.results > 0 ? ` (${countsText(c.decisions)})` : "";
    lines.push(
      `summary: plans ${c.plans}, results ${c.results}${byDecision}, paper orders ${c.orders}, P3.5 processed_total ${c.p35ProcessedTotal ?? "-"}`,
    );
  }
  if (r.health.rounds > 0) lines.push(`health: ${r.health.greenRounds}/${r.health.rounds} rounds all green`);
  lines.push(`stopped after ${r.durationSec} s, exit ${r.exitCode} (${r.reason})`);
  return lines;
}
