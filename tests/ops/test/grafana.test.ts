import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  freePort,
  type ServiceProcess,
  scrapeMetrics,
  startServiceProcess,
  startTestRedis,
  type TestRedis,
  waitHealthy,
} from "@quantum/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { ensureTestTools, readRepoFile, repoPath, run } from "./helpers.js";
import {
  parseExposition,
  promqlGroupingLabels,
  promqlMetricNames,
  promqlSelectors,
  type ScrapedFamilies,
} from "./promql.js";
import { SERVICES } from "./units.js";

const DASHBOARD = "ops/grafana/quantum-p3.json";
const DS = `\${DS_PROMETHEUS}`;
/** Labels Prometheus adds to every scraped series (target labels), and the bucket label of histograms. */
const TARGET_LABELS = new Set(["job", "instance"]);

interface Target {
  refId: string;
  expr: string;
  legendFormat?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: string }> };
}

const loadDashboard = (): Dashboard => JSON.parse(readRepoFile(DASHBOARD)) as Dashboard;

/** All panels, rows' nested panels included. */
function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}
const queryPanels = (d: Dashboard): Panel[] => allPanels(d).filter((p) => p.type !== "row");

/** Grafana's interval variables replaced by a literal duration, so the expression is plain PromQL. */
const plainPromql = (expr: string): string => expr.replace(/\$\{?__(rate_interval|interval|range)\}?/g, "5m");

/** Scrapes keyed by job name (= systemd unit, as in prometheus.yml). */
type Scrapes = Record<string, ScrapedFamilies>;

/**
 * Every way the dashboard's queries disagree with what the services export, one line each: a metric no
 * service (or not the selected job) exports, a job that is not scraped, a label the metric does not carry.
 */
function dashboardProblems(d: Dashboard, scrapes: Scrapes): string[] {
  const problems: string[] = [];
  const all = Object.values(scrapes);
  for (const p of queryPanels(d)) {
    for (const t of p.targets ?? []) {
      const where = `"${p.title}" ${t.refId}`;
      const expr = plainPromql(t.expr);
      const metrics = promqlMetricNames(expr);
      if (metrics.length === 0) problems.push(`${where}: names no metric`);
      const selectors = promqlSelectors(expr);
      const jobs = new Set<string>();
      for (const sel of selectors) {
        for (const m of sel.matchers) if (m.name === "job" && m.op === "=") jobs.add(m.value);
      }
      for (const job of jobs)
        if (scrapes[job] === undefined) problems.push(`${where}: job ${job} is not scraped`);
      const pool = jobs.size > 0 ? [...jobs].flatMap((j) => scrapes[j] ?? []) : all;
      for (const name of metrics) {
        if (!pool.some((s) => s.names.has(name))) {
          problems.push(
            `${where}: ${name} is not exported by ${jobs.size > 0 ? [...jobs].join(", ") : "any service"}`,
          );
        }
      }
      // Labels are checked against the samples of the metrics involved; a metric without samples yet (a
      // labelled series nothing has touched) cannot be checked and is skipped.
      const labelsOf = (name: string): Set<string> | undefined => {
        const sets = pool.flatMap((s) => s.labels.get(name) ?? []);
        return sets.length === 0 ? undefined : new Set(sets.flatMap((x) => [...x]));
      };
      for (const sel of selectors) {
        const labels = labelsOf(sel.metric);
        if (labels === undefined) continue;
        for (const m of sel.matchers) {
          if (!TARGET_LABELS.has(m.name) && !labels.has(m.name)) {
            problems.push(`${where}: label ${m.name} is not on ${sel.metric}`);
          }
        }
      }
      const perMetric = metrics.map(labelsOf);
      if (perMetric.some((l) => l === undefined)) continue;
      const seen = new Set(perMetric.flatMap((l) => [...(l ?? [])]));
      for (const l of promqlGroupingLabels(expr)) {
        if (!TARGET_LABELS.has(l) && !seen.has(l)) {
          problems.push(`${where}: grouping label ${l} is on no metric`);
        }
      }
    }
  }
  return problems;
}

describe("ops/grafana/quantum-p3.json against live /metrics of the three services", () => {
  let redis: TestRedis;
  const procs: ServiceProcess[] = [];
  const scrapes: Scrapes = {};
  let scratch = "";

  beforeAll(async () => {
    for (const s of SERVICES) {
      const entry = repoPath("services", s.dir, "dist/main.js");
      if (!existsSync(entry)) throw new Error(`${entry} is missing: build the services first (pnpm build)`);
    }
    scratch = mkdtempSync(join(tmpdir(), "quantum-grafana-"));
    redis = await startTestRedis();
    const ports = { apply: await freePort(), p33: await freePort(), p35: await freePort() };
    const common = { REDIS_URL: redis.url(0), METRICS_HOST: "127.0.0.1" };
    const envs: Record<string, Record<string, string>> = {
      "apply-layer": {
        ...common,
        APPLY_MODE: "paper",
        PROMETHEUS_PORT: String(ports.apply),
        APPLY_LOG_LEVEL: "warn",
      },
      "position-state-brain": {
        ...common,
        P33_EXCHANGE: "paper",
        P33_METRICS_PORT: String(ports.p33),
        P33_LOG_LEVEL: "warn",
      },
      "decision-intelligence": { ...common, P35_METRICS_PORT: String(ports.p35), LOG_LEVEL: "warn" },
    };
    const portOf: Record<string, number> = {
      "apply-layer": ports.apply,
      "position-state-brain": ports.p33,
      "decision-intelligence": ports.p35,
    };
    for (const s of SERVICES) {
      procs.push(
        startServiceProcess({ entry: repoPath("services", s.dir, "dist/main.js"), env: envs[s.dir] ?? {} }),
      );
    }
    for (const [i, s] of SERVICES.entries()) {
      const port = portOf[s.dir] as number;
      try {
        await waitHealthy(port);
      } catch (err) {
        throw new Error(`${s.dir} did not get healthy: ${String(err)}\n${procs[i]?.stderr() ?? ""}`);
      }
      scrapes[s.unit] = parseExposition(await scrapeMetrics(port));
    }
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await redis?.stop();
    if (scratch !== "") rmSync(scratch, { recursive: true, force: true });
  });

  it("scraped each service's own families (sanity of the scrape itself)", () => {
    expect(scrapes["quantum-apply-layer"]?.names).toContain("apply_executed_total");
    expect(scrapes["quantum-apply-layer"]?.names).toContain("apply_permit_wait_seconds_bucket");
    expect(scrapes["quantum-position-state-brain"]?.names).toContain("p33_permit_latency_seconds_bucket");
    expect(scrapes["quantum-p35-decision-intelligence"]?.names).toContain("p35_consumer_lag");
    expect(scrapes["quantum-p35-decision-intelligence"]?.names).not.toContain("apply_executed_total");
  });

  it("has a why-not-trading panel on apply_result_total by decision and reason, which the Apply Layer exports", () => {
    const panel = queryPanels(loadDashboard()).find((p) => /why not trading/i.test(p.title));
    expect(panel?.targets?.[0]?.expr).toMatch(/sum by \(decision, reason\) \(increase\(apply_result_total\{/);
    const labels = scrapes["quantum-apply-layer"]?.labels.get("apply_result_total");
    expect([...(labels ?? [])].sort()).toEqual(["decision", "reason"]);
  });

  it("every panel's PromQL names only metrics and labels the selected services export", () => {
    expect(dashboardProblems(loadDashboard(), scrapes)).toEqual([]);
  });

  it("the check catches an unknown metric, a metric of another job, an unknown label and job", () => {
    const d = loadDashboard();
    const panel = queryPanels(d).find((p) => p.title === "Permit wait (ms)") as Panel;
    const t = panel.targets?.[0] as Target;
    t.expr =
      'max(permit_wait_msec{job="quantum-apply-layer"}) + max(p35_consumer_lag{job="quantum-apply-layer"})';
    const other = queryPanels(d).find((p) => p.title === "Decisions by type") as Panel;
    (other.targets?.[0] as Target).expr =
      'sum by (verdict) (rate(p35_decisions_total{job="quantum-p35-decision-intelligence",outcome="x"}[5m]))';
    const third = queryPanels(d).find((p) => p.title === "Kill switch") as Panel;
    (third.targets?.[0] as Target).expr = 'max(apply_kill_switch_active{job="quantum-apply"})';
    expect(dashboardProblems(d, scrapes)).toEqual([
      '"Kill switch" A: job quantum-apply is not scraped',
      '"Kill switch" A: apply_kill_switch_active is not exported by quantum-apply',
      '"Permit wait (ms)" A: permit_wait_msec is not exported by quantum-apply-layer',
      '"Permit wait (ms)" A: p35_consumer_lag is not exported by quantum-apply-layer',
      '"Decisions by type" A: label outcome is not on p35_decisions_total',
      '"Decisions by type" A: grouping label verdict is on no metric',
    ]);
  });

  it("every query is valid PromQL (promtool check rules on the queries as recording rules)", async () => {
    ensureTestTools();
    const rules = queryPanels(loadDashboard()).flatMap((p) =>
      (p.targets ?? []).map((t) => ({
        record: `dashboard:panel_${p.id}_${t.refId}`,
        expr: plainPromql(t.expr),
      })),
    );
    expect(rules.length).toBeGreaterThan(20);
    writeFileSync(
      join(scratch, "dashboard.rules.yml"),
      stringify({ groups: [{ name: "dashboard", rules }] }),
    );
    const r = await run("promtool", ["check", "rules", "dashboard.rules.yml"], { cwd: scratch });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
  });
});

describe("ops/grafana/quantum-p3.json structure", () => {
  const d = loadDashboard();

  it("is an importable dashboard with the Prometheus datasource as the DS_PROMETHEUS variable", () => {
    expect(d.uid).toBe("quantum-p3");
    expect(d.title).toMatch(/Quantum P3/);
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(d.schemaVersion).toBeLessThanOrEqual(41);
    expect(d.templating.list).toContainEqual(
      expect.objectContaining({ name: "DS_PROMETHEUS", type: "datasource", query: "prometheus" }),
    );
    for (const p of queryPanels(d)) {
      expect(p.datasource, p.title).toEqual({ type: "prometheus", uid: DS });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) {
        expect(t.datasource, `${p.title} ${t.refId}`).toEqual({ type: "prometheus", uid: DS });
        expect(t.expr.trim(), `${p.title} ${t.refId}`).not.toBe("");
      }
      expect(p.description, `${p.title} has a description`).toBeTruthy();
    }
  });

  it("has unique panel ids, unique refIds per panel and a grid without overlaps", () => {
    const panels = allPanels(d);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const p of panels) {
      const refs = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refs).size, p.title).toBe(refs.length);
      const g = p.gridPos;
      expect(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0 && g.y >= 0, `${p.title} gridPos`).toBe(true);
    }
    for (const [i, a] of panels.entries()) {
      for (const b of panels.slice(i + 1)) {
        const overlap =
          a.gridPos.x < b.gridPos.x + b.gridPos.w &&
          b.gridPos.x < a.gridPos.x + a.gridPos.w &&
          a.gridPos.y < b.gridPos.y + b.gridPos.h &&
          b.gridPos.y < a.gridPos.y + a.gridPos.h;
        expect(overlap, `"${a.title}" overlaps "${b.title}"`).toBe(false);
      }
    }
  });

  // The panels the dashboard must have, each on the metrics it is built from.
  const REQUIRED: Array<{ title: string; type: string; metrics: string[] }> = [
    {
      title: "Execution success rate (%)",
      type: "stat",
      metrics: ["apply_executed_total", "quantum_apply_plan_total"],
    },
    { title: "P3.3 deny reasons", type: "piechart", metrics: ["p33_permit_deny_total"] },
    { title: "Permit wait (ms)", type: "gauge", metrics: ["permit_wait_ms"] },
    { title: "Governor blocks by reason", type: "bargauge", metrics: ["governor_block_total"] },
    { title: "Position mismatch duration", type: "gauge", metrics: ["position_mismatch_seconds"] },
    {
      title: "Permit latency",
      type: "timeseries",
      metrics: ["p33_permit_latency_seconds_bucket", "apply_permit_wait_seconds_bucket"],
    },
    { title: "Consumer lag", type: "timeseries", metrics: ["p35_consumer_lag", "quantum_stream_pending"] },
    { title: "Kill switch", type: "stat", metrics: ["apply_kill_switch_active"] },
    { title: "Decisions by type", type: "timeseries", metrics: ["p35_decisions_total"] },
    {
      title: "Exchange rate limiting",
      type: "timeseries",
      metrics: ["exchange_rate_limited_total", "exchange_requests_total"],
    },
  ];

  it.each(REQUIRED)("has the panel $title ($type) on $metrics", ({ title, type, metrics }) => {
    const panel = queryPanels(d).find((p) => p.title === title);
    expect(panel, title).toBeDefined();
    expect(panel?.type).toBe(type);
    const used = new Set((panel?.targets ?? []).flatMap((t) => promqlMetricNames(plainPromql(t.expr))));
    for (const m of metrics) expect(used, `${title} uses ${m}`).toContain(m);
  });

  it("groups the by-reason panels by reason and takes P3.3's own deny counter", () => {
    const exprOf = (title: string) =>
      (queryPanels(d).find((p) => p.title === title)?.targets ?? []).map((t) => t.expr).join("\n");
    expect(promqlGroupingLabels(exprOf("P3.3 deny reasons"))).toEqual(["reason"]);
    expect(exprOf("P3.3 deny reasons")).toContain('job="quantum-position-state-brain"');
    expect(promqlGroupingLabels(exprOf("Governor blocks by reason"))).toEqual(["reason"]);
    expect(exprOf("Execution success rate (%)")).toMatch(/status=~?"success/);
    expect(exprOf("Execution success rate (%)")).toContain('decision="EXECUTE"');
    expect(exprOf("Permit latency")).toMatch(/histogram_quantile\(0\.99,/);
  });

  it("selects only jobs prometheus.yml scrapes", () => {
    const cfg = parse(readRepoFile("ops/prometheus/prometheus.yml")) as {
      scrape_configs: Array<{ job_name: string }>;
    };
    const jobs = new Set(cfg.scrape_configs.map((j) => j.job_name));
    for (const p of queryPanels(d)) {
      for (const t of p.targets ?? []) {
        for (const m of t.expr.matchAll(/job="([^"]+)"/g)) expect(jobs, `${p.title}`).toContain(m[1]);
      }
    }
  });
});
