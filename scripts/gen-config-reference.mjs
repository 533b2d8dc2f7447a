#!/usr/bin/env node
// Generates docs/config-reference.md from the services' zod schemas.
//
//   node scripts/gen-config-reference.mjs            write docs/config-reference.md   (pnpm docs:config)
//   node scripts/gen-config-reference.mjs --check    exit 1 with a diff summary when the file is out of date
//   --out FILE            another target file (default docs/config-reference.md)
//   --services-dir DIR    another services directory (default services/; tests use it)
//
// Each service's build must contain dist/config.js exporting `configSchema` (a zod object schema) and
// `configAliases` (canonical name -> accepted alias names); the variable list, defaults and descriptions come
// from `listEnvVars` of packages/runtime, so the reference can never drift from what the services accept.
// Build first (`pnpm build`): the script reads dist/, not src/.

import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_OUT = join(REPO_ROOT, "docs/config-reference.md");
export const DEFAULT_SERVICES_DIR = join(REPO_ROOT, "services");
const RUNTIME_ENTRY = join(REPO_ROOT, "packages/runtime/dist/index.js");

/** The services, in pipeline order: code directory, title, systemd unit and env file. */
export const SERVICES = [
  {
    dir: "apply-layer",
    title: "Apply Layer",
    unit: "quantum-apply-layer",
    envFile: "/etc/quantum/apply-layer.env",
  },
  {
    dir: "position-state-brain",
    title: "P3.3 Position State Brain",
    unit: "quantum-position-state-brain",
    envFile: "/etc/quantum/position-state-brain.env",
  },
  {
    dir: "decision-intelligence",
    title: "P3.5 Decision Intelligence",
    unit: "quantum-p35-decision-intelligence",
    envFile: "/etc/quantum/p35-decision-intelligence.env",
  },
];

/** A problem that stops generation (missing build, missing export); the message says what to do. */
export class ConfigReferenceError extends Error {
  constructor(message) {
    super(message);
    this.name = "ConfigReferenceError";
    this.code = "config_reference_error";
  }
}

const isObjectSchema = (v) =>
  typeof v === "object" && v !== null && typeof v.safeParse === "function" && typeof v.shape === "object";

const isAliasMap = (v) =>
  typeof v === "object" &&
  v !== null &&
  !Array.isArray(v) &&
  Object.values(v).every((names) => Array.isArray(names) && names.every((n) => typeof n === "string"));

/**
 * Import every service's dist/config.js. Returns, per service, its schema, aliases and the documented variables
 * ({name, default, required, description, aliases} from listEnvVars). Throws ConfigReferenceError naming the
 * service and the fix when a build or an export is missing.
 */
export async function loadServiceConfigs(opts = {}) {
  const servicesDir = resolve(opts.servicesDir ?? DEFAULT_SERVICES_DIR);
  if (!existsSync(RUNTIME_ENTRY)) {
    throw new ConfigReferenceError(
      `${relative(REPO_ROOT, RUNTIME_ENTRY)} is missing: build it first (pnpm --filter @quantum/runtime build)`,
    );
  }
  const { listEnvVars } = await import(pathToFileURL(RUNTIME_ENTRY).href);
  const out = [];
  for (const service of SERVICES) {
    const entry = join(servicesDir, service.dir, "dist/config.js");
    const shown = relative(REPO_ROOT, entry).startsWith("..") ? entry : relative(REPO_ROOT, entry);
    if (!existsSync(entry)) {
      throw new ConfigReferenceError(
        `${shown} is missing: services/${service.dir}/tsup.config.ts needs "src/config.ts" in its entry list, ` +
          `then build it (pnpm --filter @quantum/${service.dir} build)`,
      );
    }
    const mod = await import(pathToFileURL(entry).href);
    if (!isObjectSchema(mod.configSchema)) {
      throw new ConfigReferenceError(
        `${shown} does not export configSchema (a zod object schema): add ` +
          `"export { <schema> as configSchema, <aliases> as configAliases };" at the end of ` +
          `services/${service.dir}/src/config.ts and rebuild`,
      );
    }
    if (!isAliasMap(mod.configAliases)) {
      throw new ConfigReferenceError(
        `${shown} does not export configAliases (canonical name -> alias names; {} when there are none): ` +
          `add it to services/${service.dir}/src/config.ts and rebuild`,
      );
    }
    const src = join(servicesDir, service.dir, "src/config.ts");
    if (existsSync(src) && statSync(src).mtimeMs > statSync(entry).mtimeMs + 1000) {
      process.stderr.write(
        `warning: services/${service.dir}/src/config.ts is newer than its dist/config.js; rebuild for an exact reference\n`,
      );
    }
    out.push({
      ...service,
      schema: mod.configSchema,
      aliases: mod.configAliases,
      vars: listEnvVars(mod.configSchema, mod.configAliases),
    });
  }
  return out;
}

/** Escape a table cell: pipes split cells even inside code spans; line breaks end the row. */
function cell(text) {
  return text
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/\s*\n\s*/g, " ");
}

/**
 * Description text as markdown: placeholders such as quantum:permit:p33:<plan_id> or <hostname>-apply-layer go
 * into code spans (a bare <plan_id> would be swallowed as an HTML tag); existing code spans stay as they are.
 */
function describe(text) {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) =>
      i % 2 === 1 ? part : part.replace(/[\w:./*-]*<[^<>\s]+>[\w:./*<>-]*/g, (m) => `\`${m}\``),
    )
    .join("");
}

function defaultCell(v) {
  if (v.default !== undefined) return v.default === "" ? '`""`' : `\`${v.default}\``;
  return v.required ? "**required**" : "*(unset)*";
}

/** The markdown of docs/config-reference.md for the loaded services (deterministic: no dates, schema order). */
export function renderConfigReference(services) {
  const lines = [
    "# Configuration reference",
    "",
    "<!-- GENERATED FILE: do not edit by hand. Regenerate with `pnpm docs:config`",
    "     (scripts/gen-config-reference.mjs, from the services' zod schemas in services/*/src/config.ts). -->",
    "",
    "This file is generated from the zod schemas the services validate their environment with, so it lists",
    "exactly what they accept. After changing a schema, rebuild the service and run `pnpm docs:config`;",
    "`pnpm docs:config --check` (and the tests in `tests/ops`) fail while this file is out of date.",
    "",
    "Every service reads its variables from the environment (systemd: its `EnvironmentFile`) and from an",
    "optional `--env-file PATH`; the real environment wins over the file. An empty value counts as unset.",
    "When a canonical name and an accepted alias are both set, the canonical name wins. All problems are",
    "reported together at startup and the service exits non-zero before opening any connection.",
    "Shipped env files with every variable at its default: `etc/quantum/*.env.example`.",
    "",
    ...services.map((s) => `- [${s.title}](#${anchor(s.title)}): ${s.vars.length} variables`),
  ];
  for (const s of services) {
    lines.push(
      "",
      `## ${s.title}`,
      "",
      `Code \`services/${s.dir}\`, unit \`${s.unit}\`, env file \`${s.envFile}\`.`,
      "",
      "| Variable | Default | Accepted aliases | Description |",
      "| --- | --- | --- | --- |",
    );
    for (const v of s.vars) {
      const aliases = v.aliases.length > 0 ? v.aliases.map((a) => `\`${a}\``).join(", ") : "—";
      lines.push(
        `| \`${v.name}\` | ${cell(defaultCell(v))} | ${cell(aliases)} | ${cell(describe(v.description))} |`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

/** GitHub-style anchor of a heading. */
function anchor(heading) {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Load the schemas and render the reference (in memory). */
export async function generateConfigReference(opts = {}) {
  return renderConfigReference(await loadServiceConfigs(opts));
}

/**
 * A short, line-based summary of how `actual` (the file) differs from `expected` (freshly generated): lines
 * only in one of them, with their line numbers, at most `limit` of each.
 */
export function diffSummary(expected, actual, limit = 20) {
  if (expected === actual) return "";
  const exp = expected.split("\n");
  const act = actual.split("\n");
  const expSet = new Set(exp);
  const actSet = new Set(act);
  const missing = exp.flatMap((l, i) => (actSet.has(l) ? [] : [`  + ${i + 1}: ${l}`]));
  const stale = act.flatMap((l, i) => (expSet.has(l) ? [] : [`  - ${i + 1}: ${l}`]));
  const out = [];
  if (missing.length > 0) {
    out.push(`${missing.length} line(s) missing from the file (generated line number):`);
    out.push(...missing.slice(0, limit), ...(missing.length > limit ? ["  …"] : []));
  }
  if (stale.length > 0) {
    out.push(`${stale.length} line(s) in the file that the schemas no longer produce (file line number):`);
    out.push(...stale.slice(0, limit), ...(stale.length > limit ? ["  …"] : []));
  }
  if (out.length === 0) out.push("same lines in a different order (or different blank lines)");
  return out.join("\n");
}

function parseArgs(argv) {
  const opts = { check: false, out: DEFAULT_OUT, servicesDir: DEFAULT_SERVICES_DIR };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new ConfigReferenceError(`${arg} needs a value`);
      return resolve(v);
    };
    if (arg === "--check") opts.check = true;
    else if (arg === "--out") opts.out = value();
    else if (arg === "--services-dir") opts.servicesDir = value();
    else if (arg === "--help" || arg === "-h") opts.help = true;
    else if (arg === "--") continue;
    else
      throw new ConfigReferenceError(`unknown argument ${arg} (use --check, --out FILE, --services-dir DIR)`);
  }
  return opts;
}

async function main(argv) {
  const opts = parseArgs(argv);
  if (opts.help) {
    process.stdout.write("usage: gen-config-reference.mjs [--check] [--out FILE] [--services-dir DIR]\n");
    return 0;
  }
  const text = await generateConfigReference({ servicesDir: opts.servicesDir });
  const rel = relative(process.cwd(), opts.out);
  const shown = rel === "" || rel.startsWith("..") ? opts.out : rel;
  if (opts.check) {
    const current = existsSync(opts.out) ? readFileSync(opts.out, "utf8") : "";
    if (current === text) {
      process.stdout.write(`${shown} is up to date\n`);
      return 0;
    }
    const why = current === "" ? "is missing or empty" : "is out of date";
    process.stderr.write(`${shown} ${why}; run pnpm docs:config\n${diffSummary(text, current)}\n`);
    return 1;
  }
  writeFileSync(opts.out, text);
  process.stdout.write(`wrote ${shown}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      const known = err instanceof ConfigReferenceError;
      process.stderr.write(`gen-config-reference: ${known ? err.message : (err?.stack ?? String(err))}\n`);
      process.exitCode = 2;
    },
  );
}
