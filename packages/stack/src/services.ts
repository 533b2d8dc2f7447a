import { join } from "node:path";

/** The three services of the repo, in the order the stack starts them. */
export const SERVICE_NAMES = ["position-state-brain", "decision-intelligence", "apply-layer"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Every node process the stack supervises. */
export const CHILD_NAMES = [...SERVICE_NAMES, "dev-governor", "demo-feeder"] as const;
export type ChildName = (typeof CHILD_NAMES)[number];

export interface ServiceDef {
  readonly name: ServiceName;
  /** Entry relative to the repo root. */
  readonly entry: string;
  /** Default metrics port and the variable that sets it. */
  readonly defaultPort: number;
  readonly portVar: string;
  readonly logLevelVar: string;
}

export const SERVICES: Readonly<Record<ServiceName, ServiceDef>> = {
  "apply-layer": {
    name: "apply-layer",
    entry: "services/apply-layer/dist/main.js",
    defaultPort: 8000,
    portVar: "PROMETHEUS_PORT",
    logLevelVar: "APPLY_LOG_LEVEL",
  },
  "position-state-brain": {
    name: "position-state-brain",
    entry: "services/position-state-brain/dist/main.js",
    defaultPort: 8045,
    portVar: "P33_METRICS_PORT",
    logLevelVar: "P33_LOG_LEVEL",
  },
  "decision-intelligence": {
    name: "decision-intelligence",
    entry: "services/decision-intelligence/dist/main.js",
    defaultPort: 8046,
    portVar: "P35_METRICS_PORT",
    logLevelVar: "LOG_LEVEL",
  },
};

/** Entries of the dev tools (packages/devtools) and the operator CLI, relative to the repo root. */
export const DEVTOOL_ENTRIES = {
  "dev-governor": "packages/devtools/dist/governor-main.js",
  "demo-feeder": "packages/devtools/dist/feeder-main.js",
} as const;
export const QUANTUMCTL_ENTRY = "packages/cli/dist/main.js";

export function childEntry(root: string, name: ChildName): string {
  const rel =
    name === "dev-governor" || name === "demo-feeder" ? DEVTOOL_ENTRIES[name] : SERVICES[name].entry;
  return join(root, rel);
}

/**
 * Variables never passed from the caller's environment to a child: the stack always runs paper mode on
 * its own Redis connection, and live credentials must never reach it.
 */
const DROPPED_PREFIXES = ["BINANCE_", "REDIS_", "QUANTUM_REDIS_"];
const DROPPED_NAMES = new Set([
  "APPLY_MODE",
  "TESTNET",
  "P33_EXCHANGE",
  "APPLY_TEST_CRASH_AT",
  "APPLY_TEST_ORDER_LIMIT",
  "APPLY_ALLOW_LOOPBACK_EXCHANGE",
  "APPLY_METRICS_PORT",
  "APPLY_ALLOWLIST",
  "P33_ALLOWLIST",
  "P35_ALLOWLIST",
  "SYMBOLS",
  "PROMETHEUS_PORT",
  "P33_METRICS_PORT",
  "P35_METRICS_PORT",
  "NODE_OPTIONS",
]);

export function passThroughEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    if (DROPPED_NAMES.has(k) || DROPPED_PREFIXES.some((p) => k.startsWith(p))) continue;
    out[k] = v;
  }
  return out;
}

export interface ChildEnvInput {
  /** The caller's environment (process.env); its service variables win over the stack defaults. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly redisUrl: string;
  readonly symbols: readonly string[];
  readonly feederSymbols: readonly string[];
  readonly feederIntervalSec: number;
  readonly logLevel: string;
  readonly ports: Readonly<Record<ServiceName, number>>;
}

/** Defaults of the demo stack: fast polls so the demo moves, everything else at the services' defaults. */
function stackDefaults(name: ChildName, i: ChildEnvInput): Record<string, string> {
  switch (name) {
    case "apply-layer":
      return { APPLY_POLL_SEC: "1", APPLY_LOG_LEVEL: i.logLevel };
    case "position-state-brain":
      return { P33_POLL_SEC: "1", P33_LOG_LEVEL: i.logLevel };
    case "decision-intelligence":
      return { P35_SNAPSHOT_INTERVAL_SEC: "2", LOG_LEVEL: i.logLevel };
    case "dev-governor":
      return { LOG_LEVEL: i.logLevel };
    case "demo-feeder":
      return {
        FEEDER_SYMBOLS: i.feederSymbols.join(","),
        FEEDER_INTERVAL_SEC: String(i.feederIntervalSec),
        LOG_LEVEL: i.logLevel,
      };
  }
}

/**
 * Node flags of the three services, as in their systemd units. A small young generation keeps an idle service
 * under the 80 MB RSS target (node's default of 16 MiB holds ~10 MB more): 2 MiB for the Apply
 * Layer and P3.3, which are idle most of the time; 4 MiB for P3.5, whose batch drain allocates many
 * short-lived objects (at 2 MiB its throughput drops by a quarter, below the 50,000 results/s target).
 */
export const SERVICE_NODE_OPTIONS: Readonly<Record<ServiceName, string>> = {
  "apply-layer": "--max-semi-space-size=2",
  "position-state-brain": "--max-semi-space-size=2",
  "decision-intelligence": "--max-semi-space-size=4",
};

/** What the stack always sets, whatever the caller's environment says. */
function forced(name: ChildName, i: ChildEnvInput): Record<string, string> {
  const symbols = i.symbols.join(",");
  const common = { REDIS_URL: i.redisUrl };
  switch (name) {
    case "apply-layer":
      return {
        ...common,
        NODE_OPTIONS: SERVICE_NODE_OPTIONS["apply-layer"],
        APPLY_MODE: "paper",
        TESTNET: "false",
        APPLY_ALLOWLIST: symbols,
        SYMBOLS: symbols,
        PROMETHEUS_PORT: String(i.ports["apply-layer"]),
      };
    case "position-state-brain":
      return {
        ...common,
        NODE_OPTIONS: SERVICE_NODE_OPTIONS["position-state-brain"],
        P33_EXCHANGE: "paper",
        P33_ALLOWLIST: symbols,
        P33_METRICS_PORT: String(i.ports["position-state-brain"]),
      };
    case "decision-intelligence":
      return {
        ...common,
        NODE_OPTIONS: SERVICE_NODE_OPTIONS["decision-intelligence"],
        P35_ALLOWLIST: symbols,
        P35_METRICS_PORT: String(i.ports["decision-intelligence"]),
      };
    case "dev-governor":
    case "demo-feeder":
      return common;
  }
}

/** The full environment of one child: stack defaults < caller's environment < forced values. */
export function childEnv(name: ChildName, i: ChildEnvInput): Record<string, string> {
  return { ...stackDefaults(name, i), ...passThroughEnv(i.env), ...forced(name, i) };
}
