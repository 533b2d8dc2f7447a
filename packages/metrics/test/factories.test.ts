import {
  APPLY_REASON_DOCS,
  APPLY_REASONS,
  DECISIONS,
  EXECUTED_STATUSES,
  P33_DENY_REASONS,
} from "@quantum/contracts";
import { metricValue, scrapeMetrics } from "@quantum/testkit";
import type { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import {
  createApplyMetrics,
  createExchangeMetrics,
  createP33Metrics,
  createP35Metrics,
  createServiceRegistry,
  createStreamMetrics,
  INTAKE_SOURCES,
  startMetricsServer,
} from "../src/index.js";

async function scrape(registry: Registry): Promise<string> {
  const server = await startMetricsServer({
    port: 0,
    registry,
    health: async () => ({ status: "ok", checks: {} }),
    ready: () => true,
  });
  try {
    return await scrapeMetrics(server.port);
  } finally {
    await server.close();
  }
}

function expectFamilies(text: string, families: Array<[string, string]>): void {
  for (const [name, type] of families) {
    expect(text, name).toMatch(new RegExp(`^# HELP ${name} \\S.+$`, "m"));
    expect(text, name).toMatch(new RegExp(`^# TYPE ${name} ${type}$`, "m"));
  }
}

const identity = { service: "apply-layer", mode: "paper", version: "1.2.3" };

describe("createServiceRegistry", () => {
  it("exports process metrics and quantum_service_info", async () => {
    const text = await scrape(createServiceRegistry(identity));
    expect(metricValue(text, "quantum_service_info", identity)).toBe(1);
    expectFamilies(text, [
      ["quantum_service_info", "gauge"],
      ["process_resident_memory_bytes", "gauge"],
      ["process_cpu_seconds_total", "counter"],
    ]);
  });
});

describe("createApplyMetrics", () => {
  it("registers every Apply Layer metric with HELP and pre-initialised bounded labels", async () => {
    const registry = createServiceRegistry(identity);
    const m = createApplyMetrics(registry);
    m.executed.inc({ status: "success" });
    m.plan.inc({ symbol: "BTCUSDT", decision: "EXECUTE" });
    m.permitWaitMs.set(87);
    m.permitWaitSeconds.observe(0.087);
    m.orderLatencySeconds.observe(0.02);
    m.governorBlock.inc({ reason: "governor_blocked" });
    m.killSwitchActive.set(1);
    const text = await scrape(registry);
    expectFamilies(text, [
      ["p33_permit_deny_total", "counter"],
      ["p33_permit_allow_total", "counter"],
      ["governor_block_total", "counter"],
      ["apply_executed_total", "counter"],
      ["apply_plan_processed_total", "counter"],
      ["permit_wait_ms", "gauge"],
      ["position_mismatch_seconds", "gauge"],
      ["apply_permit_wait_seconds", "histogram"],
      ["apply_order_latency_seconds", "histogram"],
      ["quantum_apply_plan_total", "counter"],
      ["quantum_apply_dedupe_hits_total", "counter"],
      ["apply_kill_switch_active", "gauge"],
      ["apply_plan_queue_depth", "gauge"],
      ["apply_plan_queue_capacity", "gauge"],
      ["apply_plan_queue_full_total", "counter"],
      ["apply_result_total", "counter"],
    ]);
    for (const source of INTAKE_SOURCES) {
      expect(text).toContain(`apply_plan_queue_full_total{source="${source}"} 0`);
    }
    for (const reason of APPLY_REASONS) {
      const decision = APPLY_REASON_DOCS[reason].decision;
      expect(metricValue(text, "apply_result_total", { decision, reason }), reason).toBe(0);
    }
    for (const status of EXECUTED_STATUSES) {
      expect(text).toContain(`apply_executed_total{status="${status}"}`);
    }
    for (const decision of DECISIONS) {
      expect(text).toContain(`apply_plan_processed_total{decision="${decision}"} 0`);
    }
    for (const reason of P33_DENY_REASONS)
      expect(text).toContain(`p33_permit_deny_total{reason="${reason}"} 0`);
    expect(metricValue(text, "apply_executed_total", { status: "success" })).toBe(1);
    expect(metricValue(text, "apply_executed_total", { status: "testnet_bypass" })).toBe(0);
    expect(metricValue(text, "quantum_apply_plan_total", { symbol: "BTCUSDT", decision: "EXECUTE" })).toBe(1);
    expect(metricValue(text, "permit_wait_ms")).toBe(87);
    expect(metricValue(text, "apply_kill_switch_active")).toBe(1);
    expect(metricValue(text, "apply_permit_wait_seconds_bucket", { le: "0.001" })).toBe(0);
    expect(metricValue(text, "apply_permit_wait_seconds_bucket", { le: "0.1" })).toBe(1);
    expect(text).toContain('apply_permit_wait_seconds_bucket{le="2"}');
  });
});

describe("createP33Metrics", () => {
  it("registers every P3.3 metric and zero series for allowlisted symbols", async () => {
    const registry = createServiceRegistry({ ...identity, service: "position-state-brain" });
    const m = createP33Metrics(registry, { symbols: ["BTCUSDT", "ETHUSDT"] });
    m.permitDeny.inc({ reason: "no_position", symbol: "ETHUSDT" });
    m.snapshotAgeSeconds.set({ symbol: "BTCUSDT" }, 1.5);
    m.exchangePositionAmt.set({ symbol: "BTCUSDT" }, -0.01);
    m.ledgerPositionAmt.set({ symbol: "BTCUSDT" }, -0.01);
    m.positionMismatchSeconds.set({ symbol: "BTCUSDT" }, 0);
    m.permitLatencySeconds.observe(0.0007);
    const text = await scrape(registry);
    expectFamilies(text, [
      ["p33_permit_allow_total", "counter"],
      ["p33_permit_deny_total", "counter"],
      ["p33_snapshot_age_seconds", "gauge"],
      ["p33_exchange_position_amt", "gauge"],
      ["p33_ledger_position_amt", "gauge"],
      ["position_mismatch_seconds", "gauge"],
      ["p33_permit_latency_seconds", "histogram"],
    ]);
    expect(text).toContain('p33_permit_allow_total{symbol="ETHUSDT"} 0');
    expect(metricValue(text, "p33_permit_deny_total", { reason: "no_position", symbol: "ETHUSDT" })).toBe(1);
    for (const reason of P33_DENY_REASONS) {
      expect(text).toContain(`p33_permit_deny_total{symbol="BTCUSDT",reason="${reason}"} 0`);
    }
    expect(metricValue(text, "p33_exchange_position_amt", { symbol: "BTCUSDT" })).toBe(-0.01);
    expect(metricValue(text, "p33_permit_latency_seconds_bucket", { le: "0.0005" })).toBe(0);
    expect(metricValue(text, "p33_permit_latency_seconds_bucket", { le: "0.001" })).toBe(1);
    expect(text).toContain('p33_permit_latency_seconds_bucket{le="1"}');
  });
});

describe("createP35Metrics", () => {
  it("registers every P3.5 metric", async () => {
    const registry = createServiceRegistry({ ...identity, service: "decision-intelligence" });
    const m = createP35Metrics(registry);
    m.processed.inc(3);
    m.decisions.inc({ decision: "BLOCKED" }, 2);
    m.consumerLag.set(7);
    m.alerts.inc({ severity: "HIGH" });
    m.batchSeconds.observe(0.004);
    m.symbolStuck.set({ symbol: "BTCUSDT" }, 1);
    m.dayRollups.inc();
    const text = await scrape(registry);
    expectFamilies(text, [
      ["p35_processed_total", "counter"],
      ["p35_decisions_total", "counter"],
      ["p35_consumer_lag", "gauge"],
      ["p35_alerts_total", "counter"],
      ["p35_batch_seconds", "histogram"],
      ["p35_symbol_stuck", "gauge"],
      ["p35_day_rollups_total", "counter"],
    ]);
    expect(metricValue(text, "p35_symbol_stuck", { symbol: "BTCUSDT" })).toBe(1);
    expect(metricValue(text, "p35_day_rollups_total")).toBe(1);
    expect(metricValue(text, "p35_processed_total")).toBe(3);
    expect(metricValue(text, "p35_decisions_total", { decision: "BLOCKED" })).toBe(2);
    expect(text).toContain('p35_decisions_total{decision="UNKNOWN"} 0');
    expect(text).toContain('p35_alerts_total{severity="CRITICAL"} 0');
    expect(metricValue(text, "p35_consumer_lag")).toBe(7);
  });
});

describe("createStreamMetrics and createExchangeMetrics", () => {
  it("export the shared stream and exchange names", async () => {
    const registry = createServiceRegistry(identity);
    const s = createStreamMetrics(registry, "apply-layer");
    const again = createStreamMetrics(registry, "apply-layer");
    s.registerStream("s1");
    s.message("s1", "processed", 4);
    again.deadLetter("s1");
    s.pending("s1", 2);
    s.redisUp(true);
    const x = createExchangeMetrics(registry, "testnet");
    x.request("POST /fapi/v1/order", "ok", 0.12);
    x.request("POST /fapi/v1/order", "unknown", 10);
    x.rateLimitHeaders(37, null);
    x.rateLimited(2000);
    const text = await scrape(registry);
    expectFamilies(text, [
      ["quantum_stream_messages_total", "counter"],
      ["quantum_deadletter_total", "counter"],
      ["quantum_stream_pending", "gauge"],
      ["quantum_redis_up", "gauge"],
      ["exchange_requests_total", "counter"],
      ["exchange_request_seconds", "histogram"],
      ["exchange_rate_limited_total", "counter"],
      ["exchange_used_weight_1m", "gauge"],
      ["exchange_order_count_1m", "gauge"],
    ]);
    const svc = { service: "apply-layer", stream: "s1" };
    expect(metricValue(text, "quantum_stream_messages_total", { ...svc, outcome: "processed" })).toBe(4);
    expect(text).toContain(
      'quantum_stream_messages_total{service="apply-layer",stream="s1",outcome="reclaimed"} 0',
    );
    expect(metricValue(text, "quantum_deadletter_total", svc)).toBe(1);
    expect(metricValue(text, "quantum_stream_pending", svc)).toBe(2);
    expect(metricValue(text, "quantum_redis_up", { service: "apply-layer" })).toBe(1);
    const ep = { venue: "testnet", endpoint: "POST /fapi/v1/order" };
    expect(metricValue(text, "exchange_requests_total", { ...ep, outcome: "unknown" })).toBe(1);
    expect(metricValue(text, "exchange_request_seconds_count", ep)).toBe(2);
    expect(metricValue(text, "exchange_used_weight_1m", { venue: "testnet" })).toBe(37);
    expect(text).not.toContain("exchange_order_count_1m{");
    expect(metricValue(text, "exchange_rate_limited_total", { venue: "testnet" })).toBe(1);
  });
});
