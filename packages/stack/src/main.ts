import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseStackArgs, STACK_USAGE, type StackArgs } from "./args.js";
import { StackStartError } from "./errors/stack-start-error.js";
import { StackUsageError } from "./errors/stack-usage-error.js";
import type { Stack } from "./stack-types.js";
import { startStack } from "./start-stack.js";

/** The supervisor behind `bash scripts/stack.sh` (exec'd by it after bootstrap and build). */
async function main(): Promise<number> {
  let args: StackArgs;
  try {
    args = parseStackArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof StackUsageError) {
      process.stderr.write(`stack: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (args.help) {
    process.stdout.write(`${STACK_USAGE}\n`);
    return 0;
  }
  const root = process.env.QUANTUM_ROOT ?? fileURLToPath(new URL("../../../", import.meta.url));
  const out = (line: string) => {
    process.stdout.write(`${line}\n`);
  };
  const abort = new AbortController();
  let stack: Stack | null = null;
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      out(`[stack] ${sig}: stopping everything (again to kill at once)`);
      abort.abort(sig);
      return;
    }
    out(`[stack] ${sig} again: killing every process now`);
    stack?.killNow();
    process.exit(1);
  };
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, onSignal);
  // Whatever happens to the supervisor, its children do not outlive it.
  process.on("exit", () => stack?.killNow());
  try {
    stack = await startStack({
      root: resolve(root),
      env: process.env,
      out,
      symbols: args.symbols,
      feeder: args.feeder,
      feederIntervalSec: args.feederIntervalSec,
      logLevel: args.logLevel,
      logDir: args.logDir === null ? null : resolve(args.logDir),
      stateFile: args.stateFile === null ? null : resolve(args.stateFile),
      durationSec: args.durationSec,
      signal: abort.signal,
    });
  } catch (err) {
    if (err instanceof StackStartError) {
      process.stderr.write(`stack: could not start: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const result = await stack.done;
  return result.exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
    process.stdout.write("", () => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(
      `stack: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
