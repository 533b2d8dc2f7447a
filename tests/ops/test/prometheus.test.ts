import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createApplyMetrics,
  createExchangeMetrics,
  createP33Metrics,
  createP35Metrics,
  createServiceRegistry,
  createStreamMetrics,
} from "@quantum/metrics";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { ensureTestTools, headingAnchors, readRepoFile, repoPath, run } from "./helpers.js";
import { promqlMetricNames } from "./promql.js";
import { SERVICES } from "./units.js";

const PROM_DIR = repoPath("ops/prometheus");

/** Metric families the services export (packages/metrics), plus Prometheus' `up`. */
const KNOWN_METRICS = new Set([
  "up",
  // Apply Layer
  "p33_permit_deny_total",
  "p33_permit_allow_total",
  "governor_block_total",
  "apply_executed_total",
  "apply_plan_processed_total",
  "permit_wait_ms",
  "position_mismatch_seconds",
  "apply_permit_wait_seconds",
  "apply_order_latency_seconds",
  "quantum_apply_plan_total",
  "quantum_apply_dedupe_hits_total",
  "apply_kill_switch_active",
  "apply_trading_state",
  "apply_protective_stop_missing",
  // P3.3
  "p33_snapshot_age_seconds",
  "p33_exchange_position_amt",
  "p33_ledger_position_amt",
  "p33_permit_latency_seconds",
  // P3.5
  "p35_processed_total",
  "p35_decisions_total",
  "p35_consumer_lag",
  "p35_alerts_total",
  "p35_batch_seconds",
  "p35_symbol_stuck",
  "p35_day_rollups_total",
  // shared stream consumer, exchange and service info
  "quantum_stream_messages_total",
  "quantum_deadletter_total",
  "quantum_stream_pending",
  "quantum_redis_up",
  "exchange_requests_total",
  "exchange_request_seconds",
  "exchange_rate_limited_total",
  "exchange_used_weight_1m",
  "exchange_order_count_1m",
  "quantum_service_info",
]);
const HISTOGRAMS = [
  "apply_permit_wait_seconds",
  "apply_order_latency_seconds",
  "p33_permit_latency_seconds",
  "p35_batch_seconds",
  "exchange_request_seconds",
];

/** The alerts the operators asked for, named <Service><Condition>. */
const REQUIRED_ALERTS = [
  "P33DenyRateHigh",
  "ExecutionFailureSpike",
  "PermitWaitTimeout",
  "KillSwitchActive",
  "ConsumerLagGrowing",
  "ExchangeRateLimited",
  "ServiceDown",
  "P35AlertStreamActive",
  "DeadLetterGrowing",
  "PositionMismatch",
  "TradingStateNotActive",
  "ProtectiveStopMissing",
  "PipelineStalled",
  "P35SymbolStuck",
];

/** The runbook link every rule carries: the external label runbook_base_url, then the alert's section. */
export const runbookUrlTemplate = (alert: string): string =>
  `{{ $externalLabels.runbook_base_url }}/docs/operations/runbook.md#${alert.toLowerCase()}`;

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: Array<{ name: string; rules: Rule[] }>;
}
interface RuleTestFile {
  tests: Array<{
    name: string;
    alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }>;
  }>;
}

/** Metric families referenced by a PromQL expression (a histogram's _bucket/_sum/_count count as the family). */
export function metricNames(expr: string): string[] {
  const names = promqlMetricNames(expr).map(
    (word) =>
      HISTOGRAMS.find((h) => word === `${h}_bucket` || word === `${h}_sum` || word === `${h}_count`) ?? word,
  );
  return [...new Set(names)];
}

/** Metric families each job exports, taken from the services' real registries (@quantum/metrics). */
async function exportedByJob(): Promise<Record<string, Set<string>>> {
  const names = async (build: (r: ReturnType<typeof createServiceRegistry>) => void, service: string) => {
    const registry = createServiceRegistry({ service, mode: "paper", version: "test" });
    build(registry);
    const json = await registry.getMetricsAsJSON();
    return new Set(["up", ...json.map((m) => m.name)]);
  };
  return {
    "quantum-apply-layer": await names((r) => {
      createApplyMetrics(r);
      createStreamMetrics(r, "apply-layer");
      createExchangeMetrics(r, "binance");
    }, "apply-layer"),
    "quantum-position-state-brain": await names((r) => {
      createP33Metrics(r);
      createStreamMetrics(r, "position-state-brain");
      createExchangeMetrics(r, "binance");
    }, "position-state-brain"),
    "quantum-p35-decision-intelligence": await names((r) => {
      createP35Metrics(r);
      createStreamMetrics(r, "decision-intelligence");
    }, "decision-intelligence"),
  };
}

const rules = (): Rule[] =>
  (parse(readRepoFile("ops/prometheus/alerts.yml")) as RuleFile).groups.flatMap((g) => g.rules);

describe("prometheus rules and config", () => {
  let scratch = "";
  beforeAll(() => {
    ensureTestTools();
    scratch = mkdtempSync(join(tmpdir(), "quantum-prom-"));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("promtool check rules passes", async () => {
    const r = await run("promtool", ["check", "rules", "alerts.yml"], { cwd: PROM_DIR });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("SUCCESS");
  });

  it("promtool test rules passes", async () => {
    const r = await run("promtool", ["test", "rules", "alerts.test.yml"], { cwd: PROM_DIR });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("SUCCESS");
  });

  it("promtool check config passes (rule_files resolved next to prometheus.yml)", async () => {
    const r = await run("promtool", ["check", "config", "prometheus.yml"], { cwd: PROM_DIR });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("1 rule files found");
  });

  it("scrapes the three services on their default ports, one job per unit", () => {
    const cfg = parse(readRepoFile("ops/prometheus/prometheus.yml")) as {
      rule_files: string[];
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    expect(cfg.rule_files).toEqual(["alerts.yml"]);
    const jobs = Object.fromEntries(
      cfg.scrape_configs.map((j) => [j.job_name, j.static_configs[0]?.targets]),
    );
    expect(jobs).toEqual(Object.fromEntries(SERVICES.map((s) => [s.unit, [`127.0.0.1:${s.port}`]])));
  });

  it("has every required alert, named <Service><Condition>, with for, severity and annotations", () => {
    const all = rules();
    const names = new Set(all.map((r) => r.alert));
    for (const name of REQUIRED_ALERTS) expect(names, name).toContain(name);
    for (const r of all) {
      expect(r.alert).toMatch(/^[A-Z][A-Za-z0-9]+$/);
      expect(r.for, `${r.alert} has for:`).toMatch(/^\d+[smh]$/);
      expect(["critical", "warning", "info"], `${r.alert} severity`).toContain(r.labels?.severity);
      expect(r.annotations?.summary, `${r.alert} summary`).toBeTruthy();
      expect(r.annotations?.description, `${r.alert} description`).toBeTruthy();
      expect(r.annotations?.runbook_url).toBe(runbookUrlTemplate(r.alert));
    }
  });

  it("links every alert to an existing section of docs/operations/runbook.md", () => {
    const anchors = headingAnchors(readRepoFile("docs/operations/runbook.md"));
    for (const r of rules()) {
      const anchor = (r.annotations?.runbook_url ?? "").split("#")[1] ?? "";
      expect(anchors, `runbook section for ${r.alert}`).toContain(anchor);
    }
  });

  it("uses only metric names the services export", () => {
    for (const r of rules()) {
      const names = metricNames(r.expr);
      expect(names.length, r.alert).toBeGreaterThan(0);
      for (const n of names) expect(KNOWN_METRICS, `${r.alert} uses ${n}`).toContain(n);
    }
  });

  it("sets an absolute runbook base as the external label every runbook_url starts with", () => {
    const cfg = parse(readRepoFile("ops/prometheus/prometheus.yml")) as {
      global: { external_labels?: Record<string, string> };
    };
    const base = cfg.global.external_labels?.runbook_base_url ?? "";
    expect(() => new URL(base), `runbook_base_url "${base}" is an absolute URL`).not.toThrow();
    expect(base.endsWith("/")).toBe(false);
  });

  it("uses only metrics the services' registries define, in the job the rule selects", async () => {
    const byJob = await exportedByJob();
    for (const r of rules()) {
      const job = /job="([^"]+)"/.exec(r.expr)?.[1];
      const pool = job === undefined ? Object.values(byJob) : [byJob[job] ?? new Set<string>()];
      for (const n of metricNames(r.expr)) {
        expect(
          pool.some((set) => set.has(n)),
          `${r.alert}: ${n} is not exported by ${job ?? "any service"}`,
        ).toBe(true);
      }
    }
  });

  it("the metric-name check catches an unknown name", () => {
    expect(metricNames('sum by (le) (rate(apply_permit_wait_secs_bucket{job="x"}[5m])) > 0.8')).toEqual([
      "apply_permit_wait_secs_bucket",
    ]);
    expect(metricNames('label_replace(increase(p35_alerts_total[15m]), "a", "$1", "b", "(.*)") > 0')).toEqual(
      ["p35_alerts_total"],
    );
  });

  it("has a firing and a silent unit test for every alert", () => {
    const file = parse(readRepoFile("ops/prometheus/alerts.test.yml")) as RuleTestFile;
    const cases = file.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const name of new Set(rules().map((r) => r.alert))) {
      const mine = cases.filter((c) => c.alertname === name);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${name} firing case`,
      ).toBe(true);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${name} silent case`,
      ).toBe(true);
    }
  });

  // Mutation check: the unit tests must fail when any single rule never fires, or always fires. Each mutant
  // gets its own rule file and a test file with only the cases of that alert; one promtool run checks all.
  it("the unit tests fail when any one rule is broken", async () => {
    const original = parse(readRepoFile("ops/prometheus/alerts.yml")) as RuleFile;
    const tests = parse(readRepoFile("ops/prometheus/alerts.test.yml")) as RuleTestFile &
      Record<string, unknown>;
    const mutants: Array<{ file: string; what: string }> = [];
    original.groups.forEach((g, gi) => {
      g.rules.forEach((rule, ri) => {
        ["vector(1) == 0", "vector(1)"].forEach((expr, k) => {
          const mutant = structuredClone(original);
          (mutant.groups[gi]?.rules[ri] as Rule).expr = expr;
          const name = `m${gi}-${ri}-${k}`;
          writeFileSync(join(scratch, `${name}.rules.yml`), stringify(mutant));
          const own = tests.tests.filter((t) =>
            (t.alert_rule_test ?? []).some((c) => c.alertname === rule.alert),
          );
          writeFileSync(
            join(scratch, `${name}.test.yml`),
            stringify({ ...tests, rule_files: [`${name}.rules.yml`], tests: own }),
          );
          mutants.push({
            file: `${name}.test.yml`,
            what: `${rule.alert} (group ${g.name}) with expr "${expr}"`,
          });
        });
      });
    });
    // promtool writes the file headers to stdout and the failures to stderr: merge them in order
    const r = await run(
      "bash",
      ["-c", 'promtool test rules "$@" 2>&1', "promtool", ...mutants.map((m) => m.file)],
      {
        cwd: scratch,
      },
    );
    expect(r.code).not.toBe(0);
    const out = r.stdout;
    for (const m of mutants) {
      const section = out.split("Unit Testing:").find((sec) => sec.trimStart().startsWith(`${m.file}\n`));
      expect(section, `promtool reported on ${m.file}`).toBeDefined();
      expect(section, `${m.what} still passes its unit tests`).toContain("FAILED");
    }
  });
});
