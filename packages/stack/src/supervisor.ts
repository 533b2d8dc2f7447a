import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { groups } from "@quantum/contracts";
import type { Redis } from "ioredis";
import { DEFAULT_FEEDER_INTERVAL_SEC, DEFAULT_STACK_SYMBOLS } from "./args.js";
import { StackStartError } from "./errors/stack-start-error.js";
import { HealthMonitor, waitFor200 } from "./health-monitor.js";
import { fileSink, type LogSink, terminalSink } from "./logs.js";
import { type ChildExit, describeExit, ManagedChild, stopAndJudge } from "./managed-child.js";
import { freePort, pickPort } from "./ports.js";
import { closeClient, connectWithRetry, redisServerArgs } from "./redis.js";
import {
  CHILD_NAMES,
  type ChildEnvInput,
  type ChildName,
  childEntry,
  childEnv,
  SERVICE_NAMES,
  SERVICES,
  type ServiceName,
} from "./services.js";
import type { StackOptions } from "./stack-types.js";
import { connectExisting, waitForGroups, waitForPaperPositions } from "./startup.js";
import {
  bannerLines,
  quantumctlCommand,
  type StackRedisInfo,
  type StackResult,
  type StackServiceInfo,
  type StackState,
  summaryLines,
  writeStateFile,
} from "./state.js";
import { type RunCounts, runCounts, type StreamMarks, streamMarks } from "./summary.js";

type Phase = "starting" | "running" | "stopping" | "stopped";
const SUP = "[stack]";

/** Starts, watches and stops the processes of the local stack; `startStack` is its public face. */
export class Supervisor {
  private phase: Phase = "starting";
  private readonly children = new Map<ChildName | "redis-server", ManagedChild>();
  private readonly onPurpose = new Set<string>();
  private readonly processes: { name: string; pid: number }[] = [];
  private readonly sink: LogSink;
  private readonly symbols: readonly string[];
  private readonly startedAt = new Date();
  private client: Redis | null = null;
  private marks: StreamMarks | null = null;
  private redisInfo: StackRedisInfo | null = null;
  private ports: Record<ServiceName, number> | null = null;
  private monitor: HealthMonitor | null = null;
  private failure: string | null = null;
  private stopping: Promise<StackResult> | null = null;
  private durationTimer: NodeJS.Timeout | null = null;
  private result: StackResult | null = null;
  private resolveDone: (r: StackResult) => void = () => undefined;
  readonly done = new Promise<StackResult>((resolve) => {
    this.resolveDone = resolve;
  });

  constructor(private readonly o: StackOptions) {
    this.symbols = o.symbols ?? DEFAULT_STACK_SYMBOLS;
    this.sink = o.logDir ? fileSink(o.logDir) : terminalSink(o.out);
    o.signal?.addEventListener("abort", () => {
      const why = `interrupted (${String(o.signal?.reason ?? "abort")})`;
      if (this.phase === "running") void this.stop(why);
      else if (this.phase === "starting") this.interrupted = why;
    });
  }

  private say(line: string): void {
    this.o.out(`${SUP} ${line}`);
  }

  private interrupted: string | null = null;
  private alive = (): boolean =>
    this.failure === null && this.interrupted === null && this.phase === "starting";

  private spawn(
    name: ChildName | "redis-server",
    command: string,
    args: string[],
    env: Record<string, string>,
  ) {
    const child = new ManagedChild(
      { name, command, args, env, cwd: this.o.root },
      {
        onLine: (line) => this.sink.line(name, line),
        onExit: (exit) => this.childExited(name, exit),
        tailLines: 40,
      },
    );
    this.children.set(name, child);
    child.start();
    if (child.pid !== null) this.processes.push({ name, pid: child.pid });
    return child;
  }

  private childExited(name: string, exit: ChildExit): void {
    if (this.onPurpose.has(name) || this.phase === "stopping" || this.phase === "stopped") return;
    const why = `${name} exited unexpectedly (${describeExit(exit)})`;
    this.failure ??= why;
    this.say(why);
    if (this.o.logDir) {
      for (const l of this.children
        .get(name as ChildName)
        ?.tail()
        .slice(-15) ?? [])
        this.say(`  ${name}: ${l}`);
    }
    if (this.phase === "running") void this.stop(why);
  }

  private envInput(): ChildEnvInput {
    return {
      env: this.o.env,
      redisUrl: this.redisInfo!.url,
      symbols: this.symbols,
      feederSymbols: this.o.feederSymbols ?? this.symbols,
      feederIntervalSec: this.o.feederIntervalSec ?? DEFAULT_FEEDER_INTERVAL_SEC,
      logLevel: this.o.logLevel ?? "info",
      ports: this.ports!,
    };
  }

  private startNode(name: ChildName): ManagedChild {
    const entry = childEntry(this.o.root, name);
    return this.spawn(name, this.o.nodePath ?? process.execPath, [entry], childEnv(name, this.envInput()));
  }

  private async startRedis(): Promise<void> {
    const url = this.o.env.REDIS_URL?.trim();
    if (url) {
      const existing = await connectExisting(url, (l) => this.say(l));
      this.client = existing.client;
      this.redisInfo = existing.info;
      return;
    }
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "quantum-stack-"));
    this.redisInfo = {
      url: `redis://127.0.0.1:${port}/0`,
      host: "127.0.0.1",
      port,
      pid: null,
      startedByStack: true,
      dir,
    };
    const child = this.spawn("redis-server", "redis-server", redisServerArgs(port, dir), {
      PATH: this.o.env.PATH ?? "/usr/bin:/bin",
    });
    this.redisInfo = { ...this.redisInfo, pid: child.pid };
    const died = child.exited.then((e): never => {
      throw new StackStartError(
        `redis-server did not start (${describeExit(e)}; bash scripts/bootstrap.sh installs it): ${child.tail().slice(-3).join(" | ")}`,
      );
    });
    died.catch(() => undefined);
    this.client = await Promise.race([connectWithRetry(this.redisInfo.url, 10_000), died]);
  }

  private async groupsReady(names: string[]): Promise<boolean> {
    return waitForGroups(this.client!, names, this.o.startTimeoutMs ?? 45_000, this.alive);
  }

  /**
   * The feeder opens the paper positions; P3.3 initialises a missing ledger from its first snapshot. P3.3
   * starts only once the positions exist, so the ledgers start out agreeing with the paper exchange instead
   * of at 0 (which would deny every plan of the symbol with reconcile_required_side_mismatch).
   */
  private async waitSeeded(): Promise<void> {
    const limitMs = ((this.o.feederIntervalSec ?? DEFAULT_FEEDER_INTERVAL_SEC) + 10) * 1000;
    const symbols = this.o.feederSymbols ?? this.symbols;
    const ok = await waitForPaperPositions(this.client!, symbols, limitMs, this.alive);
    if (!ok && this.alive())
      this.say(`the demo feeder opened no positions in ${limitMs / 1000} s; starting anyway`);
  }

  private async waitService(name: ServiceName, path: "/health" | "/ready"): Promise<void> {
    const ok = await waitFor200(this.ports![name], path, this.o.startTimeoutMs ?? 45_000, this.alive);
    if (!ok) {
      throw new StackStartError(
        this.failure ?? this.interrupted ?? `${name}: ${path} did not answer 200 in time`,
      );
    }
  }

  async up(): Promise<void> {
    for (const name of CHILD_NAMES) {
      const entry = childEntry(this.o.root, name);
      if (!existsSync(entry)) throw new StackStartError(`${entry} is missing: run pnpm build first`);
    }
    await this.startRedis();
    const taken = new Set<number>([this.redisInfo!.port]);
    const ports = {} as Record<ServiceName, number>;
    for (const name of SERVICE_NAMES) {
      const preferred = this.o.preferDefaultPorts === false ? null : SERVICES[name].defaultPort;
      ports[name] = await pickPort(preferred, taken);
      taken.add(ports[name]);
      if (preferred !== null && ports[name] !== preferred)
        this.say(`${name}: port ${preferred} is busy, using ${ports[name]}`);
    }
    this.ports = ports;
    this.marks = await streamMarks(this.client!);

    if (this.o.feeder !== false) {
      this.startNode("demo-feeder");
      await this.waitSeeded();
    }
    this.startNode("position-state-brain");
    this.startNode("decision-intelligence");
    const wantGovernor = this.o.governor !== false;
    if (wantGovernor) this.startNode("dev-governor");
    await Promise.all([
      this.waitService("position-state-brain", "/health"),
      this.waitService("decision-intelligence", "/health"),
    ]);
    // Plans published before a group exists would never reach it: both readers of apply.plan first.
    const needed = wantGovernor ? [groups.p33, groups.governor] : [groups.p33];
    if (!(await this.groupsReady(needed))) {
      throw new StackStartError(
        this.failure ??
          this.interrupted ??
          `consumer groups ${needed.join(", ")} on apply.plan not created in time`,
      );
    }
    this.startNode("apply-layer");
    await this.waitService("apply-layer", "/ready");
    if (this.failure !== null) throw new StackStartError(this.failure);
    if (this.interrupted !== null) throw new StackStartError(this.interrupted);

    this.phase = "running";
    this.monitor = new HealthMonitor(ports, this.o.healthIntervalMs ?? 1000, (name, detail) =>
      this.say(`${name} /health not green: ${detail.slice(0, 200)}`),
    );
    this.monitor.start();
    if (this.o.stateFile) writeStateFile(this.o.stateFile, this.state());
    for (const line of bannerLines({
      root: this.o.root,
      redis: this.redisInfo!,
      services: this.services(),
      governorPid: this.pid("dev-governor"),
      feeder: {
        pid: this.pid("demo-feeder"),
        symbols: this.o.feederSymbols ?? this.symbols,
        intervalSec: this.o.feederIntervalSec ?? DEFAULT_FEEDER_INTERVAL_SEC,
      },
      symbols: this.symbols,
      logDir: this.o.logDir ?? null,
      durationSec: this.o.durationSec ?? null,
    })) {
      this.say(line);
    }
    if (this.o.durationSec) {
      this.durationTimer = setTimeout(
        () => void this.stop(`--duration ${this.o.durationSec} s elapsed`),
        this.o.durationSec * 1000,
      );
    }
  }

  tail(name: ChildName): string[] {
    return this.children.get(name)?.tail() ?? [];
  }

  pid(name: ChildName): number | null {
    const c = this.children.get(name);
    return c?.running ? c.pid : null;
  }

  services(): Record<ServiceName, StackServiceInfo> {
    const out = {} as Record<ServiceName, StackServiceInfo>;
    for (const name of SERVICE_NAMES) {
      const port = this.ports?.[name] ?? SERVICES[name].defaultPort;
      out[name] = {
        pid: this.pid(name),
        port,
        metricsUrl: `http://127.0.0.1:${port}/metrics`,
        healthUrl: `http://127.0.0.1:${port}/health`,
      };
    }
    return out;
  }

  state(): StackState {
    return {
      status: this.result !== null ? "stopped" : "running",
      supervisorPid: process.pid,
      startedAt: this.startedAt.toISOString(),
      root: this.o.root,
      symbols: this.symbols,
      redis: this.redisInfo!,
      services: this.services(),
      processes: [...this.processes],
      logDir: this.o.logDir ?? null,
      quantumctl: quantumctlCommand(this.o.root, this.redisInfo?.url ?? ""),
      result: this.result,
    };
  }

  async stopChild(name: ChildName): Promise<ChildExit> {
    const c = this.children.get(name);
    if (c === undefined) throw new Error(`${name} was never started`);
    this.onPurpose.add(name);
    return (await c.stop(this.o.stopTimeoutMs ?? 12_000)).exit;
  }

  async startChild(name: ChildName): Promise<void> {
    if (this.phase !== "running") throw new Error(`the stack is ${this.phase}`);
    if (this.children.get(name)?.running) throw new Error(`${name} is running`);
    this.onPurpose.delete(name);
    this.startNode(name);
    if ((SERVICE_NAMES as readonly string[]).includes(name)) {
      const ok = await waitFor200(
        this.ports![name as ServiceName],
        "/health",
        this.o.startTimeoutMs ?? 45_000,
        () => this.phase === "running",
      );
      if (!ok) throw new Error(`${name} did not become healthy after restart`);
    }
  }

  killNow(): void {
    for (const c of this.children.values()) c.killNow();
  }

  stop(reason = "stop requested"): Promise<StackResult> {
    this.stopping ??= this.teardown(reason);
    return this.stopping;
  }

  private async teardown(reason: string): Promise<StackResult> {
    const wasRunning = this.phase === "running";
    if (!wasRunning) this.failure ??= reason;
    if (this.durationTimer !== null) clearTimeout(this.durationTimer);
    // One last round, so even a short run is checked (not when a process just died: that is the news).
    if (wasRunning && this.failure === null && this.monitor !== null) await this.monitor.round();
    this.phase = "stopping";
    await this.monitor?.stop();
    this.say(`stopping (${reason})`);
    const unclean: string[] = [];
    const grace = this.o.stopTimeoutMs ?? 12_000;
    const stopOne = async (name: ChildName | "redis-server") => {
      const problem = await stopAndJudge(this.children.get(name), grace);
      if (problem !== null) unclean.push(problem);
    };
    await stopOne("demo-feeder");
    await stopOne("apply-layer");
    await Promise.all(
      (["dev-governor", "position-state-brain", "decision-intelligence"] as const).map(stopOne),
    );
    let counts: RunCounts | null = null;
    if (this.client !== null && this.marks !== null) {
      counts = await runCounts(this.client, this.marks).catch(() => null);
    }
    if (this.client !== null) await closeClient(this.client);
    await stopOne("redis-server");
    if (this.redisInfo?.dir) rmSync(this.redisInfo.dir, { recursive: true, force: true });
    await this.sink.close();
    for (const u of unclean) this.say(`unclean stop: ${u}`);
    const failed = this.failure !== null || unclean.length > 0;
    const health = this.monitor?.stats ?? { rounds: 0, greenRounds: 0, services: {} };
    this.result = {
      exitCode: failed ? 1 : 0,
      reason: this.failure ?? reason,
      counts,
      health,
      unclean,
      durationSec: Math.round((Date.now() - this.startedAt.getTime()) / 100) / 10,
    };
    this.phase = "stopped";
    if (this.o.stateFile && this.redisInfo !== null) writeStateFile(this.o.stateFile, this.state());
    for (const line of summaryLines(this.result)) this.say(line);
    this.resolveDone(this.result);
    return this.result;
  }
}
