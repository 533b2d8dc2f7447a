import { DEFAULT_PAPER_RULES } from "@quantum/exchange";
import { StackUsageError } from "./errors/stack-usage-error.js";

/** Symbols of the demo stack when `--symbols` is not given. */
export const DEFAULT_STACK_SYMBOLS: readonly string[] = ["BTCUSDT", "ETHUSDT", "SOLUSDT"];
/** Seconds between demo feeder rounds when `--feeder-interval` is not given. */
export const DEFAULT_FEEDER_INTERVAL_SEC = 5;
const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

/** The parsed command line of `scripts/stack.sh` / `quantum-stack`. */
export interface StackArgs {
  /** Stop by itself after this many seconds (exit 0); null = run until Ctrl-C. */
  readonly durationSec: number | null;
  readonly symbols: readonly string[];
  /** Write the stack's state (redis URL, pids, ports) here once it is up, and the summary at the end. */
  readonly stateFile: string | null;
  /** Write each child's raw log lines to <dir>/<name>.log instead of the terminal. */
  readonly logDir: string | null;
  readonly logLevel: string;
  readonly feeder: boolean;
  readonly feederIntervalSec: number;
  readonly help: boolean;
}

export const STACK_USAGE = `Usage: bash scripts/stack.sh [options]

Runs the whole system locally: a redis-server (or REDIS_URL), the Apply Layer, P3.3 and P3.5 in paper
mode, the dev governor and the demo proposal feeder. Ctrl-C stops everything it started.

Options:
  --duration N          stop by itself after N seconds (exit 0)
  --symbols S [S ...]   symbols to allow and feed (space or comma separated; default ${DEFAULT_STACK_SYMBOLS.join(" ")})
                        paper symbols: ${DEFAULT_PAPER_RULES.map((r) => r.symbol).join(" ")}
  --state-file PATH     write redis URL, pids and ports as JSON once up, and the summary at the end
  --log-dir DIR         write each process's log to DIR/<name>.log instead of the terminal
  --log-level LEVEL     log level of every process (${LOG_LEVELS.join("|")}; default info)
  --feeder-interval SEC seconds between demo proposal rounds (default ${DEFAULT_FEEDER_INTERVAL_SEC})
  --no-feeder           do not start the demo feeder
  -h, --help            show this help

Environment: REDIS_URL=redis://host:port/db uses an existing Redis (left running; keyspace notifications
are switched on when CONFIG SET is allowed). Service variables you export (e.g. APPLY_PERMIT_WAIT_MS,
P33_COOLDOWN_SEC, GOVERNOR_BLOCK_SYMBOLS) are passed through; the mode is always paper.

Exit codes: 0 stopped normally, 1 a process died or could not start, 2 usage error.`;

function positiveNumber(flag: string, raw: string | undefined): number {
  const n = Number(raw);
  if (raw === undefined || raw.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw new StackUsageError(`${flag}: expected a positive number of seconds, got "${raw ?? ""}"`);
  }
  return n;
}

function parseSymbols(items: readonly string[]): string[] {
  const known = new Set(DEFAULT_PAPER_RULES.map((r) => r.symbol));
  const out: string[] = [];
  for (const item of items.flatMap((s) => s.split(/[\s,]+/))) {
    const s = item.trim().toUpperCase();
    if (s === "") continue;
    if (!known.has(s)) {
      throw new StackUsageError(
        `--symbols: ${s} has no paper exchange rules (known: ${[...known].join(" ")})`,
      );
    }
    if (!out.includes(s)) out.push(s);
  }
  if (out.length === 0) throw new StackUsageError("--symbols: at least one symbol is needed");
  return out;
}

/** Parse the supervisor's arguments (without `node main.js`). Throws StackUsageError. */
export function parseStackArgs(argv: readonly string[]): StackArgs {
  let durationSec: number | null = null;
  let symbols: readonly string[] = DEFAULT_STACK_SYMBOLS;
  let stateFile: string | null = null;
  let logDir: string | null = null;
  let logLevel = "info";
  let feeder = true;
  let feederIntervalSec = DEFAULT_FEEDER_INTERVAL_SEC;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i] as string;
    const eq = raw.startsWith("--") ? raw.indexOf("=") : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) throw new StackUsageError(`${flag}: missing value`);
      i++;
      return next;
    };
    switch (flag) {
      case "--duration":
        durationSec = positiveNumber(flag, value());
        break;
      case "--symbols": {
        const items: string[] = [];
        if (inline !== undefined) items.push(inline);
        while (inline === undefined && argv[i + 1] !== undefined && !argv[i + 1]?.startsWith("-")) {
          items.push(argv[++i] as string);
        }
        symbols = parseSymbols(items);
        break;
      }
      case "--state-file":
        stateFile = value();
        break;
      case "--log-dir":
        logDir = value();
        break;
      case "--log-level": {
        const v = value().toLowerCase();
        if (!(LOG_LEVELS as readonly string[]).includes(v)) {
          throw new StackUsageError(`--log-level: expected ${LOG_LEVELS.join("|")}, got "${v}"`);
        }
        logLevel = v;
        break;
      }
      case "--feeder-interval":
        feederIntervalSec = positiveNumber(flag, value());
        if (feederIntervalSec < 0.1) throw new StackUsageError("--feeder-interval: at least 0.1 s");
        break;
      case "--no-feeder":
        feeder = false;
        break;
      case "-h":
      case "--help":
        help = true;
        break;
      default:
        throw new StackUsageError(`unknown argument "${raw}" (see --help)`);
    }
  }
  return { durationSec, symbols, stateFile, logDir, logLevel, feeder, feederIntervalSec, help };
}
