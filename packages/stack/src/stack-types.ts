import type { ChildExit } from "./managed-child.js";
import type { ChildName, ServiceName } from "./services.js";
import type { StackRedisInfo, StackResult, StackServiceInfo, StackState } from "./state.js";

export interface StackOptions {
  /** Repo root (holds services/ and packages/). */
  root: string;
  /** The environment the stack runs in (REDIS_URL, service variables to pass through). */
  env: Readonly<Record<string, string | undefined>>;
  /** Supervisor lines, and child lines unless `logDir` is set. */
  out: (line: string) => void;
  symbols?: readonly string[];
  feeder?: boolean;
  /** Symbols the demo feeder proposes for; default `symbols`. */
  feederSymbols?: readonly string[];
  feederIntervalSec?: number;
  governor?: boolean;
  logLevel?: string;
  logDir?: string | null;
  stateFile?: string | null;
  /** Stop by itself after this many seconds (exit code 0). */
  durationSec?: number | null;
  /** Use 8000/8045/8046 when free (default true); false = always free ports. */
  preferDefaultPorts?: boolean;
  /** Node binary for the children; default the running one. */
  nodePath?: string;
  startTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace per process; default 12 s (services finish within 10 s). */
  stopTimeoutMs?: number;
  healthIntervalMs?: number;
  /** Aborting stops the stack (during startup: gives up and cleans up). */
  signal?: AbortSignal;
}

export interface Stack {
  readonly redis: StackRedisInfo;
  readonly services: Readonly<Record<ServiceName, StackServiceInfo>>;
  /** Resolves once the stack stopped (stop(), --duration, a signal or a dead child). */
  readonly done: Promise<StackResult>;
  state(): StackState;
  pid(name: ChildName): number | null;
  /** The last output lines of a process. */
  tail(name: ChildName): string[];
  /** Stop one process on purpose (not a failure); startChild brings it back. */
  stopChild(name: ChildName): Promise<ChildExit>;
  startChild(name: ChildName): Promise<void>;
  stop(reason?: string): Promise<StackResult>;
  /** SIGKILL everything right now (the supervisor itself is exiting). */
  killNow(): void;
}
