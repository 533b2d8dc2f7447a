import { type ChildProcess, spawn } from "node:child_process";

/** How a child process ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: string | null;
}

/** What to run: a command with its full environment. */
export interface ChildSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

export interface ManagedChildOptions {
  /** Every complete output line (without the newline). */
  onLine: (line: string, stream: "stdout" | "stderr") => void;
  /** Called once per run when the process exits (after its last line). */
  onExit?: (exit: ChildExit) => void;
  /** Lines kept for `tail()`; default 40. */
  tailLines?: number;
}

/** A clean end: exit code 0, or killed by the SIGTERM/SIGINT we sent (some programs do not catch it). */
export function cleanExit(exit: ChildExit): boolean {
  return exit.code === 0 || exit.signal === "SIGTERM" || exit.signal === "SIGINT";
}

export function describeExit(exit: ChildExit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code ?? "?"}`;
}

/**
 * One supervised process. It runs in its own process group (`detached`), so a Ctrl-C in the terminal
 * reaches only the supervisor, which stops the children in order; output is split into lines.
 */
export class ManagedChild {
  private proc: ChildProcess | null = null;
  private exitPromise: Promise<ChildExit> | null = null;
  private readonly lines: string[] = [];
  private lastExit: ChildExit | null = null;

  constructor(
    readonly spec: ChildSpec,
    private readonly o: ManagedChildOptions,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  /** True from start() until the process has exited. */
  get running(): boolean {
    return this.proc !== null && this.lastExit === null;
  }

  get exit(): ChildExit | null {
    return this.lastExit;
  }

  /** Resolves when the current run ends (immediately when not running). */
  get exited(): Promise<ChildExit> {
    return this.exitPromise ?? Promise.resolve(this.lastExit ?? { code: null, signal: null });
  }

  /** The last output lines (both streams), oldest first. */
  tail(): string[] {
    return [...this.lines];
  }

  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.lastExit = null;
    const proc = spawn(this.spec.command, [...this.spec.args], {
      env: { ...this.spec.env },
      cwd: this.spec.cwd,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.proc = proc;
    const flushers = (["stdout", "stderr"] as const).map((stream) => this.splitLines(proc, stream));
    this.exitPromise = new Promise<ChildExit>((resolve) => {
      let settled = false;
      const done = (exit: ChildExit) => {
        if (settled) return;
        settled = true;
        for (const flush of flushers) flush();
        this.lastExit = exit;
        this.o.onExit?.(exit);
        resolve(exit);
      };
      // "close" fires after the output streams ended, so the last lines are not lost.
      proc.once("close", (code, signal) => done({ code, signal }));
      proc.once("error", (err) => {
        this.remember(`spawn failed: ${err.message}`);
        this.o.onLine(`spawn failed: ${err.message}`, "stderr");
        done({ code: 127, signal: null });
      });
    });
  }

  private splitLines(proc: ChildProcess, stream: "stdout" | "stderr"): () => void {
    let partial = "";
    proc[stream]?.setEncoding("utf8");
    proc[stream]?.on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) this.emit(line, stream);
    });
    return () => {
      if (partial !== "") this.emit(partial, stream);
      partial = "";
    };
  }

  private emit(line: string, stream: "stdout" | "stderr"): void {
    const clean = line.endsWith("\r") ? line.slice(0, -1) : line;
    this.remember(clean);
    this.o.onLine(clean, stream);
  }

  private remember(line: string): void {
    this.lines.push(line);
    const max = this.o.tailLines ?? 40;
    if (this.lines.length > max) this.lines.splice(0, this.lines.length - max);
  }

  /** Send a signal to the process (not its group); false when it is not running. */
  signal(sig: NodeJS.Signals): boolean {
    if (!this.running || this.proc === null) return false;
    try {
      return this.proc.kill(sig);
    } catch {
      return false;
    }
  }

  /**
   * SIGTERM, then SIGKILL after `timeoutMs`. Resolves with how it ended and whether SIGKILL was needed.
   */
  async stop(timeoutMs: number): Promise<{ exit: ChildExit; forced: boolean }> {
    if (!this.running) return { exit: await this.exited, forced: false };
    let forced = false;
    this.signal("SIGTERM");
    const timer = setTimeout(() => {
      forced = true;
      this.signal("SIGKILL");
    }, timeoutMs);
    timer.unref();
    const exit = await this.exited;
    clearTimeout(timer);
    return { exit, forced };
  }

  /** SIGKILL right now (synchronous; used when the supervisor itself is going away). */
  killNow(): void {
    this.signal("SIGKILL");
  }
}

/**
 * Stop a child and judge the stop: null when it ended cleanly (or had already ended), else a one-line
 * description (non-zero exit after SIGTERM, or killed after the grace period).
 */
export async function stopAndJudge(c: ManagedChild | undefined, graceMs: number): Promise<string | null> {
  if (c === undefined) return null;
  const alreadyDead = !c.running;
  const { exit, forced } = await c.stop(graceMs);
  if (alreadyDead) return null;
  if (forced) return `${c.name}: no exit within ${graceMs} ms of SIGTERM, killed`;
  if (!cleanExit(exit)) return `${c.name}: ${describeExit(exit)} after SIGTERM`;
  return null;
}
