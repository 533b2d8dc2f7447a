import { errorText } from "@quantum/contracts";
import type { Command } from "commander";
import type { Redis } from "ioredis";
import { CommandFailedError } from "./errors/command-failed-error.js";
import { RedisUnreachableError } from "./errors/redis-unreachable-error.js";
import { UsageError } from "./errors/usage-error.js";
import { EXIT, type ExitCode } from "./exit-codes.js";
import { closeRedis, connectRedis, DEFAULT_REDIS_URL } from "./redis.js";
import { createStyle, type Style, shouldColor } from "./render/style.js";

/** Everything the CLI needs from its process; main.ts supplies the real one, tests may supply their own. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly isTTY: boolean;
  /** Default for --by (user@host). */
  readonly defaultActor: string;
  /** Register a SIGINT handler; returns the unregister function. */
  onInterrupt(handler: () => void): () => void;
}

/** Add the options every command takes. */
export function common(cmd: Command): Command {
  return cmd
    .option("--redis-url <url>", "Redis URL (default: $REDIS_URL, else redis://127.0.0.1:6379/0)")
    .option("--json", "machine-readable output: one JSON document on stdout");
}

/** The options every command takes. */
export interface CommonOptions {
  redisUrl?: string;
  json?: boolean;
}

/** What a command produced: a typed result, its text form and its exit code. */
export interface Outcome<T> {
  readonly result: T;
  readonly text: (st: Style) => string;
  readonly exit: ExitCode;
}

export function outcome<T>(
  result: T,
  text: (r: T, st: Style) => string,
  exit: ExitCode = EXIT.ok,
): Outcome<T> {
  return { result, text: (st) => text(result, st), exit };
}

/** State of one CLI invocation: where output goes and the exit code so far. */
export class Invocation {
  exitCode: ExitCode = EXIT.ok;
  json = false;

  constructor(readonly io: CliIo) {}

  redisUrl(opts: CommonOptions): string {
    return opts.redisUrl ?? this.io.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  }

  style(json: boolean): Style {
    return createStyle(shouldColor({ isTTY: this.io.isTTY, json, noColor: this.io.env.NO_COLOR }));
  }

  emit<T>(o: Outcome<T>, opts: CommonOptions): void {
    if (opts.json) this.io.stdout(`${JSON.stringify(o.result, null, 2)}\n`);
    else this.io.stdout(`${o.text(this.style(false))}\n`);
    this.exitCode = o.exit;
  }

  /** Connect, run, emit, close. Errors propagate to fail(). */
  async withRedis<T>(
    opts: CommonOptions,
    fn: (redis: Redis) => Promise<Outcome<T>>,
    connect: { commandTimeoutMs?: number } = {},
  ): Promise<void> {
    this.json = opts.json === true;
    const redis = await connectRedis({ url: this.redisUrl(opts), ...connect });
    try {
      this.emit(await fn(redis), opts);
    } finally {
      await closeRedis(redis);
    }
  }

  /** Report an error: exit 2 for usage errors and refusals, 1 for everything else. */
  fail(err: unknown): void {
    const usage = err instanceof UsageError;
    const code =
      err instanceof UsageError || err instanceof RedisUnreachableError || err instanceof CommandFailedError
        ? err.code
        : "internal_error";
    const message = errorText(err);
    this.exitCode = usage ? EXIT.usage : EXIT.failure;
    if (this.json) this.io.stdout(`${JSON.stringify({ error: { code, message } }, null, 2)}\n`);
    this.io.stderr(`quantumctl: ${message}\n`);
  }
}

/** A number option (`--interval 0.5`) or a usage error. */
export function numberOption(
  name: string,
  v: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`${name}: expected a number between ${min} and ${max}, got "${v}"`);
  }
  return n;
}

/** `--at`: epoch seconds or an ISO-8601 time → epoch ms. */
export function timeOption(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  const ms = /^\d+(\.\d+)?$/.test(t) ? Number(t) * 1000 : Date.parse(t);
  if (!Number.isFinite(ms))
    throw new UsageError(`${name}: expected epoch seconds or an ISO time, got "${v}"`);
  return ms;
}
