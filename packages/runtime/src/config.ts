import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { errorText } from "@quantum/contracts";
import { z } from "zod";
import { ConfigError } from "./config-error.js";
import { redisAliases } from "./redis-config.js";

export type EnvSource = Record<string, string | undefined>;
/** canonical name → accepted alias names (e.g. { PROMETHEUS_PORT: ["APPLY_METRICS_PORT"] }). */
export type EnvAliases = Readonly<Record<string, readonly string[]>>;

export interface LoadConfigOptions {
  /** Defaults to process.env. */
  env?: EnvSource;
  /** Command-line arguments; `--env-file PATH` / `--env-file=PATH` are honoured. Defaults to process.argv.slice(2). */
  argv?: readonly string[];
  /** Extra alias names; the Redis ones (QUANTUM_REDIS_*) are always included. */
  aliases?: EnvAliases;
}

/** Paths given with --env-file (in order), or problems with the flag. */
export function envFilesFromArgv(argv: readonly string[]): { files: string[]; issues: string[] } {
  const files: string[] = [];
  const issues: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--env-file") {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) issues.push("--env-file: a path is required");
      else files.push(next);
      i++;
    } else if (arg.startsWith("--env-file=")) {
      const path = arg.slice("--env-file=".length);
      if (path === "") issues.push("--env-file: a path is required");
      else files.push(path);
    }
  }
  return { files, issues };
}

/** Empty values count as unset, so `FOO=` in an env file falls back to the default. */
function clean(src: EnvSource): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(src)) if (v !== undefined && v !== "") out[k] = v;
  return out;
}

/** Map alias names onto canonical ones within one source; the canonical name wins when both are set. */
function applyAliases(src: Record<string, string>, aliases: EnvAliases): Record<string, string> {
  const out = { ...src };
  for (const [canonical, names] of Object.entries(aliases)) {
    if (out[canonical] !== undefined) continue;
    for (const name of names) {
      const v = src[name];
      if (v !== undefined) {
        out[canonical] = v;
        break;
      }
    }
  }
  return out;
}

function mergeAliases(extra: EnvAliases | undefined): EnvAliases {
  const merged: Record<string, readonly string[]> = { ...redisAliases };
  for (const [k, v] of Object.entries(extra ?? {})) merged[k] = [...(merged[k] ?? []), ...v];
  return merged;
}

/**
 * The environment a service sees: values of the --env-file(s) as defaults, the real environment on top,
 * alias names mapped to canonical ones per source (so an alias in the real environment still beats a
 * canonical one in the file).
 */
export function resolveEnv(opts: LoadConfigOptions = {}): { env: Record<string, string>; issues: string[] } {
  const aliases = mergeAliases(opts.aliases);
  const { files, issues } = envFilesFromArgv(opts.argv ?? process.argv.slice(2));
  let fromFiles: Record<string, string> = {};
  for (const file of files) {
    try {
      fromFiles = { ...fromFiles, ...clean(parseEnv(readFileSync(file, "utf8"))) };
    } catch (err) {
      issues.push(`--env-file ${file}: ${errorText(err)}`);
    }
  }
  const env = {
    ...applyAliases(fromFiles, aliases),
    ...applyAliases(clean(opts.env ?? process.env), aliases),
  };
  return { env, issues };
}

function formatIssue(issue: z.core.$ZodIssue, env: Record<string, string>, aliases: EnvAliases): string {
  const name = issue.path.length > 0 ? issue.path.map(String).join(".") : "config";
  const top = String(issue.path[0] ?? "");
  const alt = aliases[top]?.length ? ` (or ${aliases[top].join(", ")})` : "";
  if (issue.path.length === 1 && env[top] === undefined && issue.code === "invalid_type") {
    return `${name}${alt}: required but not set`;
  }
  return `${name}: ${issue.message}`;
}

/**
 * Validate the environment against a service's schema, once. Every problem is collected; on failure a
 * ConfigError lists them all (one line each, naming the variable). Call before opening any connection.
 */
export function loadConfig<S extends z.ZodType>(schema: S, opts: LoadConfigOptions = {}): z.output<S> {
  const aliases = mergeAliases(opts.aliases);
  const { env, issues } = resolveEnv(opts);
  const parsed = schema.safeParse(env);
  if (!parsed.success) issues.push(...parsed.error.issues.map((i) => formatIssue(i, env, aliases)));
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);
  return parsed.data;
}

export interface EnvVarDoc {
  name: string;
  /** The default rendered as an env value ("1200", "true", "BTCUSDT,ETHUSDT"), or undefined. */
  default: string | undefined;
  required: boolean;
  description: string;
  /** Alias names also accepted. */
  aliases: string[];
}

function renderDefault(v: unknown): string {
  if (Array.isArray(v)) return v.map((x) => String(x)).join(",");
  return String(v);
}

function describeField(field: z.ZodType): Omit<EnvVarDoc, "name" | "aliases"> {
  let description: string | undefined;
  let def: string | undefined;
  let optional = false;
  let cur: z.ZodType | undefined = field;
  while (cur !== undefined) {
    description ??= cur.description;
    if (cur instanceof z.ZodDefault || cur instanceof z.ZodPrefault) {
      def ??= renderDefault(cur.def.defaultValue);
      cur = cur.def.innerType as z.ZodType;
    } else if (cur instanceof z.ZodOptional || cur instanceof z.ZodNullable) {
      optional = true;
      cur = cur.def.innerType as z.ZodType;
    } else if (cur instanceof z.ZodPipe) {
      cur = cur.def.in as z.ZodType;
    } else {
      cur = undefined;
    }
  }
  return { default: def, required: def === undefined && !optional, description: description ?? "" };
}

/** Every env var of an object schema with its default and `.describe()` text (for generated docs). */
export function listEnvVars(schema: z.ZodObject, aliases: EnvAliases = {}): EnvVarDoc[] {
  const all = mergeAliases(aliases);
  return Object.entries(schema.shape).map(([name, field]) => ({
    name,
    ...describeField(field as z.ZodType),
    aliases: [...(all[name] ?? [])],
  }));
}
