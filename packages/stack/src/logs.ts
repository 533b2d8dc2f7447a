import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";

const LEVELS: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};
/** pino fields that every line carries and the terminal view leaves out. */
const BORING = new Set([
  "level",
  "time",
  "pid",
  "hostname",
  "service",
  "msg",
  "mode",
  "venue",
  "version",
  "v",
]);
const MAX_LINE = 400;

function hhmmss(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

function fieldText(v: unknown): string {
  if (typeof v === "string") return /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v) ?? String(v);
}

/**
 * One terminal line for a child's output line: pino JSON becomes `time LEVEL msg k=v ...`, anything else
 * is shown as it is. Every line is prefixed with the (padded) process name.
 */
export function formatChildLine(name: string, line: string, width = 21): string {
  const prefix = `${name.padEnd(width)}|`;
  if (!line.startsWith("{")) return `${prefix} ${line}`;
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${prefix} ${line}`;
  }
  const time =
    typeof rec.time === "number"
      ? hhmmss(rec.time)
      : typeof rec.time === "string"
        ? rec.time.slice(11, 23)
        : "";
  const level =
    typeof rec.level === "number"
      ? (LEVELS[rec.level] ?? String(rec.level))
      : typeof rec.level === "string"
        ? rec.level.toUpperCase()
        : "";
  const msg = typeof rec.msg === "string" ? rec.msg : "";
  const rest = Object.entries(rec)
    .filter(([k]) => !BORING.has(k))
    .map(([k, v]) => `${k}=${fieldText(v)}`)
    .join(" ");
  const text = `${prefix} ${time} ${level.padEnd(5)} ${msg}${rest !== "" ? ` ${rest}` : ""}`;
  return text.length > MAX_LINE ? `${text.slice(0, MAX_LINE - 1)}…` : text;
}

/** Where child output goes: the terminal (formatted) or one raw file per process. */
export interface LogSink {
  line(name: string, line: string): void;
  /** The log file of a process, when logs go to files. */
  fileOf(name: string): string | null;
  close(): Promise<void>;
}

export function terminalSink(out: (line: string) => void): LogSink {
  return {
    line: (name, line) => out(formatChildLine(name, line)),
    fileOf: () => null,
    close: async () => undefined,
  };
}

export function fileSink(dir: string): LogSink {
  mkdirSync(dir, { recursive: true });
  const files = new Map<string, WriteStream>();
  const fileOf = (name: string) => join(dir, `${name}.log`);
  return {
    line(name, line) {
      let f = files.get(name);
      if (f === undefined) {
        f = createWriteStream(fileOf(name), { flags: "a" });
        files.set(name, f);
      }
      f.write(`${line}\n`);
    },
    fileOf,
    async close() {
      await Promise.all(
        [...files.values()].map((f) => new Promise<void>((resolve) => f.end(() => resolve()))),
      );
      files.clear();
    },
  };
}
