import { P35_STUCK_ALERT_WINDOW, REASON_CODE_RE } from "@quantum/contracts";
import type { P35Metrics } from "@quantum/metrics";
import type { Logger } from "@quantum/runtime";
import type { Redis } from "ioredis";
import { type AlertCandidate, raiseAlert } from "./alerts.js";
import { aggregateSymbols, dominantGate, type SymbolTable } from "./symbol-windows.js";
import { type BucketHash, windowMinutes } from "./windows.js";

/** Severity of every stuck alert. */
export const STUCK_SEVERITY = "HIGH";

export interface StuckRules {
  /** Span looked at: the current UTC minute plus this many complete minutes before it. */
  minutes: number;
  /** A symbol with fewer results (plans) than this in the span is never stuck. */
  minPlans: number;
  /** Only these symbols are judged (and exported as p35_symbol_stuck). */
  allowlist: readonly string[];
}

/**
 * The stuck-alert candidates in a per-symbol table of the stuck span: allowlisted symbols with at least
 * `minPlans` results and no EXECUTE. The reason is the symbol's dominant gate (`none` when every result had
 * reason `none`); score is that gate's count, total the symbol's results. Sorted by symbol. Pure.
 */
export function findStuck(table: SymbolTable, rules: StuckRules): AlertCandidate[] {
  const out: AlertCandidate[] = [];
  for (const symbol of [...new Set(rules.allowlist)].sort()) {
    const c = table.get(symbol);
    if (c === undefined || c.total < rules.minPlans || (c.decisions.get("EXECUTE") ?? 0) > 0) continue;
    const gate = dominantGate(c) ?? { reason: "none", count: c.reasons.get("none") ?? 0 };
    out.push({
      window: P35_STUCK_ALERT_WINDOW,
      reason: gate.reason,
      score: Math.min(gate.count, c.total),
      total: c.total,
      share: c.total > 0 ? Math.min(gate.count, c.total) / c.total : 0,
      severity: STUCK_SEVERITY,
      symbol,
    });
  }
  return out;
}

export interface StuckDetectorOptions {
  redis: Redis;
  rules: StuckRules;
  cooldownSec: number;
  metrics: P35Metrics;
  logger: Logger;
}

/**
 * The "why stuck" check, run by the window loop after each recompute: sets p35_symbol_stuck{symbol} to 1 for
 * every stuck allowlisted symbol and to 0 for the others (a symbol that executes again, or whose plans stop,
 * drops back to 0), and raises one alert per stuck symbol on quantum:p35:alerts, at most once per symbol per
 * cooldown (kept in Redis, so a restart does not repeat it).
 */
export class StuckDetector {
  private readonly o: StuckDetectorOptions;
  private readonly log: Logger;

  constructor(opts: StuckDetectorOptions) {
    this.o = opts;
    this.log = opts.logger.child({ component: "stuck" });
    for (const symbol of opts.rules.allowlist) opts.metrics.symbolStuck.set({ symbol }, 0);
  }

  /** Judge the span ending at `nowMinute` from the buckets the window loop read; publish what is due. */
  async check(buckets: ReadonlyMap<number, BucketHash>, nowMinute: number, nowMs: number): Promise<void> {
    const table = aggregateSymbols(buckets, windowMinutes(nowMinute, this.o.rules.minutes));
    const stuck = findStuck(table, this.o.rules);
    const stuckSymbols = new Set(stuck.map((c) => c.symbol));
    for (const symbol of this.o.rules.allowlist) {
      this.o.metrics.symbolStuck.set({ symbol }, stuckSymbols.has(symbol) ? 1 : 0);
    }
    for (const candidate of stuck) {
      if (!REASON_CODE_RE.test(candidate.reason)) continue;
      const r = await raiseAlert(this.o.redis, candidate, { cooldownSec: this.o.cooldownSec, nowMs });
      // Not counted in p35_alerts_total (the window alerts): p35_symbol_stuck is this alert's metric.
      if (!r.published) continue;
      this.log.warn(
        {
          alertId: r.alert.alertId,
          symbol: candidate.symbol,
          reason: r.alert.reason,
          plans: r.alert.total,
          gateCount: r.alert.score,
          minutes: this.o.rules.minutes,
        },
        "symbol stuck: plans but no execute",
      );
    }
  }
}
