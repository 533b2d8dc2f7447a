import { describe, expect, it } from "vitest";
import { readRepoFile } from "./helpers.js";
import { SERVICES } from "./units.js";

/** Redis and metrics-bind variables every service reads (SPEC section 3). */
const COMMON: Record<string, string | null> = {
  REDIS_URL: null,
  REDIS_HOST: "127.0.0.1",
  REDIS_PORT: "6379",
  REDIS_DB: "0",
  REDIS_USERNAME: null,
  REDIS_PASSWORD: null,
  REDIS_SENTINELS: null,
  REDIS_SENTINEL_NAME: null,
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
 * Every variable of SPEC section 3 per env file, with its default (null = optional, shipped commented out).
 * The shipped value must equal the default, except where SPEC leaves the default open (P33_EXCHANGE).
 */
const EXPECTED: Record<string, Record<string, string | null>> = {
  "apply-layer": {
    APPLY_MODE: "dry_run",
    TESTNET: "false",
    APPLY_PERMIT_WAIT_MS: "1200",
    APPLY_PERMIT_STEP_MS: "100",
    APPLY_ALLOWLIST: "BTCUSDT",
    SYMBOLS: null,
    APPLY_POLL_SEC: "5",
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
    LOG_LEVEL: "info",
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

describe.each(SERVICES)("etc/quantum/$env.env.example", (s) => {
  const text = readRepoFile("etc/quantum", `${s.env}.env.example`);
  const { lines, vars } = parseExample(text);
  const expected = EXPECTED[s.env] as Record<string, string | null>;

  it("documents every variable of SPEC section 3 for the service, and no unknown one", () => {
    const keys = [...new Set(vars.map((v) => v.key))].sort();
    expect(keys).toEqual(Object.keys(expected).sort());
  });

  it("ships each variable at its default; optional ones and all credentials commented out", () => {
    for (const [key, def] of Object.entries(expected)) {
      const found = vars.filter((v) => v.key === key);
      expect(found, key).toHaveLength(1);
      const v = found[0] as EnvLine;
      if (def === null) {
        expect(v.active, `${key} is optional and shipped commented out`).toBe(false);
      } else {
        expect({ key, active: v.active, value: v.value }).toEqual({ key, active: true, value: def });
      }
    }
    for (const v of vars.filter((x) => /KEY|SECRET|PASSWORD/.test(x.key))) {
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

describe("production safety of the shipped apply-layer.env", () => {
  it("never enables the testnet permit bypass, the loopback exchange or a live mode", () => {
    const { vars } = parseExample(readRepoFile("etc/quantum/apply-layer.env.example"));
    const active = Object.fromEntries(vars.filter((v) => v.active).map((v) => [v.key, v.value]));
    expect(active.APPLY_MODE).toBe("dry_run");
    expect(active.TESTNET).toBe("false");
    expect(active.APPLY_ALLOW_LOOPBACK_EXCHANGE).toBe("false");
  });
});
