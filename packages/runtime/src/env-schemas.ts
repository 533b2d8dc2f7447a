import { z } from "zod";

/**
 * Reusable zod schemas for environment variables. Each takes the raw string and yields a typed value;
 * chain `.default(...)` (with the output type) and `.describe("…")` in the service schema.
 */

function show(raw: string): string {
  return raw.length > 40 ? `"${raw.slice(0, 40)}…"` : `"${raw}"`;
}

const TRUE = new Set(["true", "1", "yes", "y", "on"]);
const FALSE = new Set(["false", "0", "no", "n", "off"]);

/** true/false/1/0/yes/no/on/off, any case. */
export function envBool() {
  return z.string().transform((raw, ctx) => {
    const v = raw.trim().toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    ctx.addIssue({ code: "custom", message: `expected true/false/1/0/yes/no, got ${show(raw)}` });
    return z.NEVER;
  });
}

const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export interface NumberBounds {
  min?: number;
  max?: number;
}

function checkBounds(n: number, b: NumberBounds): string | null {
  if (b.min !== undefined && n < b.min) return `must be >= ${b.min}`;
  if (b.max !== undefined && n > b.max) return `must be <= ${b.max}`;
  return null;
}

/** A finite decimal number; fractions allowed ("0.5", "1e-3"). */
export function envNumber(bounds: NumberBounds = {}) {
  return z.string().transform((raw, ctx) => {
    const v = raw.trim();
    const n = NUMBER_RE.test(v) ? Number(v) : Number.NaN;
    if (!Number.isFinite(n)) {
      ctx.addIssue({ code: "custom", message: `expected a number, got ${show(raw)}` });
      return z.NEVER;
    }
    const bad = checkBounds(n, bounds);
    if (bad !== null) {
      ctx.addIssue({ code: "custom", message: `${bad}, got ${show(raw)}` });
      return z.NEVER;
    }
    return n;
  });
}

/** A whole number ("5", "-1"); "0.5" is an error. */
export function envInt(bounds: NumberBounds = {}) {
  return z.string().transform((raw, ctx) => {
    const v = raw.trim();
    if (!/^[+-]?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
      ctx.addIssue({ code: "custom", message: `expected a whole number, got ${show(raw)}` });
      return z.NEVER;
    }
    const n = Number(v);
    const bad = checkBounds(n, bounds);
    if (bad !== null) {
      ctx.addIssue({ code: "custom", message: `${bad}, got ${show(raw)}` });
      return z.NEVER;
    }
    return n;
  });
}

/** A TCP port 0..65535 (0 = any free port). */
export function envPort() {
  return envInt({ min: 0, max: 65_535 });
}

export interface ListOptions {
  /** Normalise each item's case; default "none". */
  case?: "upper" | "lower" | "none";
  /** Reject an empty list; default false. */
  nonEmpty?: boolean;
}

/** Comma-separated list → trimmed items (empty items dropped), optionally upper/lower-cased. */
export function envList(opts: ListOptions = {}) {
  return z.string().transform((raw, ctx) => {
    const items = raw
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "")
      .map((s) => (opts.case === "upper" ? s.toUpperCase() : opts.case === "lower" ? s.toLowerCase() : s));
    if (opts.nonEmpty === true && items.length === 0) {
      ctx.addIssue({ code: "custom", message: "expected a non-empty comma-separated list" });
      return z.NEVER;
    }
    return items;
  });
}

/** One of `values`, matched case-insensitively (the canonical spelling is returned). */
export function envEnum<const V extends string>(values: readonly [V, ...V[]]) {
  return z.string().transform((raw, ctx): V => {
    const v = raw.trim().toLowerCase();
    const hit = values.find((c) => c.toLowerCase() === v);
    if (hit !== undefined) return hit;
    ctx.addIssue({ code: "custom", message: `expected one of ${values.join("|")}, got ${show(raw)}` });
    return z.NEVER;
  });
}

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const LEVEL_ALIASES: Record<string, LogLevel> = {
  warning: "warn",
  critical: "fatal",
  notset: "trace",
  off: "silent",
  none: "silent",
};

/** A pino level from any case, Python names accepted (WARNING → warn, CRITICAL → fatal). */
export function envLogLevel() {
  return z.string().transform((raw, ctx): LogLevel => {
    const v = raw.trim().toLowerCase();
    const level = (LOG_LEVELS as readonly string[]).includes(v) ? (v as LogLevel) : LEVEL_ALIASES[v];
    if (level !== undefined) return level;
    ctx.addIssue({
      code: "custom",
      message: `expected a log level (${LOG_LEVELS.join("|")}), got ${show(raw)}`,
    });
    return z.NEVER;
  });
}

/** A non-empty trimmed string. */
export function envString() {
  return z.string().transform((raw, ctx) => {
    const v = raw.trim();
    if (v === "") {
      ctx.addIssue({ code: "custom", message: "must not be empty" });
      return z.NEVER;
    }
    return v;
  });
}
