import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, freePort } from "@quantum/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { ensureTestTools, readRepoFile, spawnTool, type ToolProcess } from "./helpers.js";

// promtool's unit tests cannot set external labels, so the absolute runbook links are checked here: a real
// Prometheus runs the shipped alerts.yml with the shipped prometheus.yml (targets moved to closed ports,
// intervals shortened, no Alertmanager) and renders the annotations of the pending ServiceDown alerts.

interface PromConfig {
  global: {
    scrape_interval: string;
    scrape_timeout: string;
    evaluation_interval: string;
    external_labels: Record<string, string>;
  };
  alerting?: unknown;
  scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
}
interface ApiAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
}

describe("runbook links rendered by a real Prometheus", () => {
  let scratch = "";
  let prom: ToolProcess | undefined;
  let port = 0;
  const shipped = parse(readRepoFile("ops/prometheus/prometheus.yml")) as PromConfig;

  beforeAll(async () => {
    ensureTestTools();
    scratch = mkdtempSync(join(tmpdir(), "quantum-prom-server-"));
    const cfg = structuredClone(shipped);
    cfg.global.scrape_interval = "1s";
    cfg.global.scrape_timeout = "1s";
    cfg.global.evaluation_interval = "1s";
    delete cfg.alerting;
    for (const job of cfg.scrape_configs) {
      job.static_configs = [{ targets: [`127.0.0.1:${await freePort()}`] }];
    }
    writeFileSync(join(scratch, "prometheus.yml"), stringify(cfg));
    writeFileSync(join(scratch, "alerts.yml"), readRepoFile("ops/prometheus/alerts.yml"));
    port = await freePort();
    prom = spawnTool("prometheus", [
      `--config.file=${join(scratch, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(scratch, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ]);
  }, 30_000);

  afterAll(async () => {
    await prom?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("ServiceDown links to <runbook_base_url>/docs/operations/runbook.md#servicedown for every job", async () => {
    const base = shipped.global.external_labels.runbook_base_url;
    const alerts = await eventually(
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/alerts`);
        const body = (await res.json()) as { data: { alerts: ApiAlert[] } };
        const down = body.data.alerts.filter((a) => a.labels.alertname === "ServiceDown");
        return down.length === shipped.scrape_configs.length ? down : false;
      },
      { timeoutMs: 30_000, message: "ServiceDown pending for every job" },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nprometheus said:\n${prom?.output().slice(-3000) ?? ""}`);
    });
    for (const a of alerts) {
      expect(a.annotations.runbook_url).toBe(`${base}/docs/operations/runbook.md#servicedown`);
    }
    expect(alerts.map((a) => a.labels.job).sort()).toEqual(
      shipped.scrape_configs.map((j) => j.job_name).sort(),
    );
  }, 40_000);
});
