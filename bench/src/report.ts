import type { ApplyPhaseResult } from "./phase-apply.js";
import type { CrashDayResult } from "./phase-crash-day.js";
import type { P33PhaseResult } from "./phase-p33.js";
import type { P35PhaseResult } from "./phase-p35.js";
import type { PagePhaseResult } from "./phase-page.js";
import type { StackPhaseResult } from "./phase-stack.js";
import { round } from "./stats.js";

/** One printed figure with its target (null = informational, no target). */
export interface Figure {
  readonly id: string;
  readonly label: string;
  readonly value: number;
  readonly unit: string;
  readonly target: { readonly op: "<=" | ">=" | "=="; readonly value: number } | null;
  /** PASS / MISS against the target; null without a target. */
  readonly pass: boolean | null;
}

function fig(
  id: string,
  label: string,
  value: number,
  unit: string,
  target: Figure["target"] = null,
): Figure {
  let pass: boolean | null = null;
  if (target !== null) {
    pass = Number.isFinite(value)
      ? target.op === "<="
        ? value <= target.value
        : target.op === ">="
          ? value >= target.value
          : value === target.value
      : false;
  }
  return { id, label, value, unit, target, pass };
}

export interface PhaseResults {
  readonly stack: StackPhaseResult;
  readonly p33: P33PhaseResult;
  readonly apply: ApplyPhaseResult;
  readonly p35: P35PhaseResult;
  readonly page: PagePhaseResult;
}

const SERVICES = ["apply-layer", "position-state-brain", "decision-intelligence"] as const;

/** Every figure with a target (and the informational ones around them), in print order. */
export function figures(p: PhaseResults): Figure[] {
  const ms = (v: number) => round(v, 3);
  const peak = {
    "apply-layer": Math.max(p.stack.peakRssMb["apply-layer"] ?? 0, p.apply.peakRssMb),
    "position-state-brain": Math.max(p.stack.peakRssMb["position-state-brain"] ?? 0, p.p33.peakRssMb),
    "decision-intelligence": Math.max(p.stack.peakRssMb["decision-intelligence"] ?? 0, p.p35.peakRssMb),
  };
  return [
    fig("p33_permit_latency_p50_ms", "P3.3 permit latency p50 @1,000 plans/s", ms(p.p33.latency.p50), "ms"),
    fig("p33_permit_latency_p99_ms", "P3.3 permit latency p99 @1,000 plans/s", ms(p.p33.latency.p99), "ms", {
      op: "<=",
      value: 5,
    }),
    fig("p33_permit_latency_max_ms", "P3.3 permit latency max @1,000 plans/s", ms(p.p33.latency.max), "ms"),
    fig("p33_cpu_ms_per_plan", "P3.3 CPU time per plan @1,000 plans/s", ms(p.p33.cpuMsPerPlan), "ms"),
    fig(
      "apply_wait_overhead_p50_ms",
      "Apply wait overhead p50 (2nd permit -> consumed)",
      ms(p.apply.overhead.p50),
      "ms",
    ),
    fig(
      "apply_wait_overhead_p99_ms",
      "Apply wait overhead p99 (2nd permit -> consumed)",
      ms(p.apply.overhead.p99),
      "ms",
      {
        op: "<=",
        value: 5,
      },
    ),
    fig(
      "e2e_first_proposal_result_ms",
      "End-to-end: the first proposal after the stack started -> result (paper)",
      ms(p.stack.e2eFirstMs),
      "ms",
    ),
    fig("e2e_proposal_result_p50_ms", "End-to-end proposal -> result p50 (paper)", ms(p.stack.e2e.p50), "ms"),
    fig(
      "e2e_proposal_result_p99_ms",
      "End-to-end proposal -> result p99 (paper)",
      ms(p.stack.e2e.p99),
      "ms",
      {
        op: "<=",
        value: 25,
      },
    ),
    fig(
      "e2e_hash_proposal_result_p50_ms",
      "Hash proposal -> result p50 (paper, APPLY_POLL_SEC=5)",
      ms(p.stack.e2eHash.p50),
      "ms",
    ),
    fig(
      "e2e_hash_proposal_result_p99_ms",
      "Hash proposal -> result p99 (paper, APPLY_POLL_SEC=5)",
      ms(p.stack.e2eHash.p99),
      "ms",
      { op: "<=", value: 25 },
    ),
    fig(
      "p35_drain_results_per_sec",
      "P3.5 drain, 100,000 results over 50 symbols",
      p.p35.perSecFromServiceStart,
      "results/s",
      {
        op: ">=",
        value: 50_000,
      },
    ),
    fig(
      "p35_drain_page_data_results_per_sec",
      "P3.5 drain, the page phase's data, no page requests",
      p.page.drainWithoutPage.perSecFromServiceStart,
      "results/s",
    ),
    fig(
      "p35_drain_while_page_results_per_sec",
      "P3.5 drain, 100,000 results, status page served 10x/s",
      p.page.drain.perSecFromServiceStart,
      "results/s",
      { op: ">=", value: 50_000 },
    ),
    fig(
      "p35_page_p99_ms",
      "P3.5 status page GET / p99 (50 symbols, a day of buckets)",
      ms(p.page.page.p99),
      "ms",
      { op: "<=", value: 50 },
    ),
    fig(
      "p35_page_during_drain_p99_ms",
      "P3.5 status page GET / p99 while draining",
      ms(p.page.pageDuringDrain.p99),
      "ms",
    ),
    ...SERVICES.map((s) =>
      fig(`idle_rss_mb_${s}`, `Idle RSS ${s}`, p.stack.idleRssMb[s] ?? Number.NaN, "MB", {
        op: "<=",
        value: 80,
      }),
    ),
    ...SERVICES.map((s) => fig(`loaded_rss_mb_${s}`, `Loaded RSS ${s} (peak)`, peak[s], "MB")),
    fig(
      "orders_in_flight_at_kill_switch",
      "Orders past the submit gate when the switch was SET (settle before `kill on` returns)",
      p.stack.kill.ordersAfterSet,
      "orders",
    ),
    fig(
      "orders_after_kill_switch",
      "Orders after `kill on` returned, under load",
      p.stack.kill.ordersAfterReturn,
      "orders",
      {
        op: "==",
        value: 0,
      },
    ),
  ];
}

/** Crash-day figures measurable without the Apply Layer, with their targets. */
export function crashDayFigures(c: CrashDayResult): Figure[] {
  const n = c.symbols.toLocaleString("en-US");
  const k = c.closes;
  return [
    fig(
      "crash_day_closes_filled",
      `Crash day: closes filled of ${n} (through the Apply Layer)`,
      k.filled,
      "orders",
      {
        op: "==",
        value: c.symbols,
      },
    ),
    fig("crash_day_closes_executed", "Crash day: results EXECUTE", k.executed, "orders", {
      op: "==",
      value: c.symbols,
    }),
    fig("crash_day_order_posts", "Crash day: order POSTs at the venue", k.posts, "orders", {
      op: "==",
      value: c.symbols,
    }),
    fig("crash_day_answers_429", "Crash day: answers 429 at the venue", k.status429, "orders", {
      op: "==",
      value: 0,
    }),
    fig("crash_day_answers_418", "Crash day: answers 418 at the venue", k.status418, "orders", {
      op: "==",
      value: 0,
    }),
    fig(
      "crash_day_venue_minimum_ms",
      `Crash day: ${n} orders at the share's rate, ${k.ordersPerInterval} / ${k.intervalMs / 1000} s (share ${k.sharePct} %)`,
      round(k.venueMinimumMs, 0),
      "ms",
    ),
    fig(
      "crash_day_earliest_last_order_ms",
      "Crash day: earliest last order in the venue's fixed intervals from this start",
      round(k.earliestLastOrderMs, 0),
      "ms",
    ),
    fig("crash_day_last_fill_ms", "Crash day: proposals -> last fill", round(k.lastFillMs, 0), "ms", {
      op: "<=",
      value: round(1.1 * k.venueMinimumMs, 0),
    }),
    fig("crash_day_apply_peak_rss_mb", "Crash day: Apply Layer peak RSS", k.peakRssMb.applyLayer, "MB"),
    fig("crash_day_p33_closes_peak_rss_mb", "Crash day: P3.3 peak RSS (closes)", k.peakRssMb.p33, "MB"),
    fig("crash_day_governor_peak_rss_mb", "Crash day: dev governor peak RSS", k.peakRssMb.governor, "MB"),
    fig(
      "crash_day_p33_last_permit_ms",
      `Crash day: P3.3 burst of ${n} plans -> last permit`,
      round(c.p33.permits >= c.symbols ? c.p33.lastPermitMs : Number.NaN, 3),
      "ms",
      { op: "<=", value: 50 },
    ),
    fig(
      "crash_day_floor_last_permit_ms",
      `Crash day: the same burst to a do-nothing consumer (read, one SET, XACK) -> last key`,
      round(c.p33.floorLastPermitMs, 3),
      "ms",
    ),
    fig(
      "crash_day_p33_burst_cpu_ms",
      `Crash day: P3.3 CPU time for the burst of ${n} plans`,
      round(c.p33.cpuMs, 0),
      "ms",
    ),
    fig("crash_day_p33_peak_rss_mb", "Crash day: P3.3 peak RSS (burst of plans)", c.p33.peakRssMb, "MB"),
  ];
}

function num(v: number, unit: string): string {
  if (!Number.isFinite(v)) return "n/a";
  if (unit === "results/s") return `${Math.round(v).toLocaleString("en-US")} ${unit}`;
  if (unit === "orders") return `${v}`;
  return `${unit === "MB" ? v.toFixed(1) : v.toFixed(2)} ${unit}`;
}

/** The printed table: figure, value, target, PASS/MISS. */
export function table(figs: readonly Figure[]): string {
  const rows = figs.map((f) => [
    f.label,
    num(f.value, f.unit),
    f.target === null
      ? "-"
      : `${f.target.op === "==" ? "=" : f.target.op === "<=" ? "<=" : ">="} ${num(f.target.value, f.unit)}`,
    f.pass === null ? "" : f.pass ? "PASS" : "MISS",
  ]);
  const head = ["figure", "value", "target", ""];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
