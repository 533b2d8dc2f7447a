import { isDeepStrictEqual } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { type ServiceConfig, serviceConfigs } from "./config-schemas.js";
import { readRepoFile } from "./helpers.js";
import { SERVICES } from "./units.js";

/** Redis and metrics-bind variables every service reads. */
const COMMON: Record<string, string | null> = {
  REDIS_URL: null,
  REDIS_HOST: "127.0.0.1",
  REDIS_PORT: "6379",
  REDIS_DB: "0",
  REDIS_USERNAME: null,
  REDIS_PASSWORD: null,
  REDIS_SENTINELS: null,
  REDIS_SENTINEL_NAME: "mymaster",
  REDIS_SENTINEL_PASSWORD: null,
  METRICS_HOST: "127.0.0.1",
};
const BINANCE: Record<string, string | null> = {
  BINANCE_TESTNET_API_KEY: null,
  BINANCE_TESTNET_API_SECRET: null,
  BINANCE_API_KEY: null,
  BINANCE_API_SECRET: null,
  BINANCE_BASE_URL: null,
};

/**
 * The variables each service documents in its contract, with their defaults (null = no default, optional).
 * The schemas may have more (the env examples follow the schemas); these must be there with these defaults.
 */
const CONTRACT_DEFAULTS: Record<string, Record<string, string | null>> = {
  "apply-layer": {
    APPLY_MODE: "dry_run",
    TESTNET: "false",
    APPLY_PERMIT_WAIT_MS: "1200",
    APPLY_PERMIT_STEP_MS: "100",
    APPLY_ALLOWLIST: "BTCUSDT",
    SYMBOLS: null,
    APPLY_POLL_SEC: "5",
    APPLY_MAX_QUEUED_PLANS: "1000",
    APPLY_DEDUPE_TTL_SEC: "21600",
    K_BLOCK_CRITICAL: "0.80",
    K_BLOCK_WARNING: "0.60",
    APPLY_KILL_SWITCH: "false",
    APPLY_LOG_LEVEL: "info",
    PROMETHEUS_PORT: "8000",
    APPLY_ALLOW_LOOPBACK_EXCHANGE: "false",
    ...BINANCE,
    ...COMMON,
  },
  "position-state-brain": {
    P33_POLL_SEC: "5",
    P33_STALE_THRESHOLD_SEC: "10",
    P33_COOLDOWN_SEC: "15",
    P33_QTY_TOLERANCE_PCT: "1.0",
    P33_PERMIT_TTL: "60",
    P33_METRICS_PORT: "8045",
    P33_ALLOWLIST: "BTCUSDT",
    P33_EXCHANGE: "paper",
    ...BINANCE,
    ...COMMON,
  },
  "p35-decision-intelligence": {
    P35_METRICS_PORT: "8046",
    ENABLE_SYMBOL_BREAKDOWN: "true",
    P35_BATCH_SIZE: "500",
    P35_SNAPSHOT_INTERVAL_SEC: "10",
    P35_ALERT_THRESHOLD_MEDIUM: "0.40",
    P35_ALERT_THRESHOLD_HIGH: "0.60",
    P35_ALERT_THRESHOLD_CRITICAL: "0.80",
    P35_ALERT_MIN_TOTAL: "100",
    P35_ALERT_COOLDOWN: "300",
    P35_START_ID: "0",
    LOG_LEVEL: "info",
    ...COMMON,
  },
};

interface EnvLine {
  key: string;
  value: string;
  active: boolean;
  index: number;
}

const VAR_LINE = /^(#?)([A-Z][A-Z0-9_]*)=(.*)$/;

function parseExample(text: string): { lines: string[]; vars: EnvLine[] } {
  const lines = text.split("\n");
  const vars: EnvLine[] = [];
  lines.forEach((line, index) => {
    const m = VAR_LINE.exec(line);
    if (m !== null) vars.push({ key: m[2] as string, value: m[3] as string, active: m[1] === "", index });
  });
  return { lines, vars };
}

/** Parse a value with the schema's own field; `undefined` gives the field's default. */
function parseField(cfg: ServiceConfig, key: string, value: string | undefined) {
  const field = cfg.schema.shape[key];
  if (field === undefined) throw new Error(`${key} is not in the ${cfg.dir} schema`);
  return field.safeParse(value);
}

/**
 * Every way an env example can disagree with its service's schema, one line each (empty = in sync): unknown
 * or missing or repeated variables, values the schema rejects, values other than the default, optional
 * variables shipped active.
 */
export function exampleProblems(vars: EnvLine[], cfg: ServiceConfig): string[] {
  const problems: string[] = [];
  const docs = new Map(cfg.vars.map((v) => [v.name, v]));
  for (const v of vars) if (!docs.has(v.key)) problems.push(`${v.key}: not a variable of the schema`);
  for (const name of docs.keys()) {
    const n = vars.filter((v) => v.key === name).length;
    if (n !== 1) problems.push(n === 0 ? `${name}: missing` : `${name}: appears ${n} times`);
  }
  for (const v of vars) {
    const doc = docs.get(v.key);
    if (doc === undefined) continue;
    if (v.value !== "") {
      const parsed = parseField(cfg, v.key, v.value);
      if (!parsed.success) {
        problems.push(`${v.key}=${v.value}: rejected by the schema (${parsed.error.message})`);
      } else if (doc.default !== undefined) {
        const def = parseField(cfg, v.key, undefined);
        if (!def.success || !isDeepStrictEqual(parsed.data, def.data)) {
          problems.push(`${v.key}=${v.value}: not the schema default ${doc.default}`);
        }
      }
    }
    if (doc.default !== undefined && v.value === "") problems.push(`${v.key}: shown without its default`);
    if (doc.default === undefined && !doc.required && v.active) {
      problems.push(`${v.key}: optional without a default, ship it commented out`);
    }
    if (doc.required && (!v.active || v.value === "")) problems.push(`${v.key}: required, ship it set`);
  }
  return problems;
}

// "$env.env.example" would read the property path env.env: name the file in its own field.
const EXAMPLES = SERVICES.map((s) => ({ ...s, file: `${s.env}.env.example` }));

describe.each(EXAMPLES)("etc/quantum/$file", (s) => {
  const text = readRepoFile("etc/quantum", s.file);
  const { lines, vars } = parseExample(text);
  let cfg: ServiceConfig;
  beforeAll(async () => {
    const found = (await serviceConfigs()).find((c) => c.dir === s.dir);
    if (found === undefined) throw new Error(`no schema for services/${s.dir}`);
    cfg = found;
  });

  it("documents exactly the schema's variables, each once, at the schema's default", () => {
    expect(exampleProblems(vars, cfg)).toEqual([]);
  });

  it("the schema has every contract variable of the service with the contract default", () => {
    const spec = CONTRACT_DEFAULTS[s.env] as Record<string, string | null>;
    for (const [key, specDefault] of Object.entries(spec)) {
      const doc = cfg.vars.find((v) => v.name === key);
      expect(doc, `${key} in the ${s.dir} schema`).toBeDefined();
      if (specDefault === null) {
        expect({ key, default: doc?.default, required: doc?.required }).toEqual({
          key,
          default: undefined,
          required: false,
        });
      } else {
        const want = parseField(cfg, key, specDefault);
        const got = parseField(cfg, key, undefined);
        expect(got.success && want.success && isDeepStrictEqual(got.data, want.data), `${key} default`).toBe(
          true,
        );
      }
    }
  });

  it("the active lines form a valid configuration for the service", () => {
    const env = Object.fromEntries(vars.filter((v) => v.active).map((v) => [v.key, v.value]));
    const r = cfg.schema.safeParse(env);
    expect(r.success, r.success ? "" : r.error.message).toBe(true);
  });

  it("ships credentials and secrets commented out and empty", () => {
    const secrets = vars.filter((x) => /KEY|SECRET|PASSWORD/.test(x.key));
    expect(secrets.length).toBeGreaterThan(0);
    for (const v of secrets) {
      expect({ key: v.key, active: v.active, value: v.value }).toEqual({
        key: v.key,
        active: false,
        value: "",
      });
    }
  });

  it("has a comment above every variable block", () => {
    for (const v of vars) {
      let i = v.index - 1;
      while (i >= 0 && VAR_LINE.test(lines[i] as string)) i -= 1;
      const above = lines[i] ?? "";
      expect(above.startsWith("# "), `${v.key} (line ${v.index + 1}) needs a comment above it`).toBe(true);
    }
  });

  it("contains only lines systemd's EnvironmentFile reads literally (no quotes, spaces or expansions)", () => {
    for (const line of lines) {
      if (line === "" || line.startsWith("#")) continue;
      expect(line).toMatch(/^[A-Z][A-Z0-9_]*=[^\s"'`$\\]*$/);
    }
  });

  it("uses the metrics port the unit, deploy.sh and prometheus.yml expect", () => {
    expect(vars.find((v) => v.key === s.portVar && v.active)?.value).toBe(String(s.port));
  });
});

describe("the env-example check", () => {
  it("reports a missing, an unknown, a non-default and a wrongly active variable", async () => {
    const cfg = (await serviceConfigs()).find((c) => c.dir === "apply-layer") as ServiceConfig;
    const { vars } = parseExample(readRepoFile("etc/quantum/apply-layer.env.example"));
    const mutated = [
      ...vars
        .filter((v) => v.key !== "APPLY_MODE")
        .map((v) => (v.key === "APPLY_PERMIT_WAIT_MS" ? { ...v, value: "1000" } : v))
        .map((v) => (v.key === "SYMBOLS" ? { ...v, active: true } : v))
        .map((v) => (v.key === "APPLY_POLL_SEC" ? { ...v, value: "often" } : v)),
      { key: "APPLY_OLD_SETTING", value: "1", active: true, index: 999 },
    ];
    const problems = exampleProblems(mutated, cfg);
    expect(problems).toContain("APPLY_MODE: missing");
    expect(problems).toContain("APPLY_OLD_SETTING: not a variable of the schema");
    expect(problems).toContain("APPLY_PERMIT_WAIT_MS=1000: not the schema default 1200");
    expect(problems).toContain("SYMBOLS: optional without a default, ship it commented out");
    expect(problems.some((p) => p.startsWith("APPLY_POLL_SEC=often: rejected by the schema"))).toBe(true);
    expect(problems).toHaveLength(5);
  });
});

describe("production safety of the shipped apply-layer.env", () => {
  it("never enables the testnet permit bypass, the loopback exchange or a live mode", () => {
    const { vars } = parseExample(readRepoFile("etc/quantum/apply-layer.env.example"));
    const active = Object.fromEntries(vars.filter((v) => v.active).map((v) => [v.key, v.value]));
    expect(active.APPLY_MODE).toBe("dry_run");
    expect(active.TESTNET).toBe("false");
    expect(active.APPLY_ALLOW_LOOPBACK_EXCHANGE).toBe("false");
  });
});
