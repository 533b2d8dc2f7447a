import { errorText, REASON_CODE_RE } from "@quantum/contracts";
import type { P35Metrics } from "@quantum/metrics";
import type { Logger } from "@quantum/runtime";
import type { Redis } from "ioredis";
import { type AlertRules, evaluateAlerts, raiseAlert } from "./alerts.js";
import type { DayRollups } from "./day-rollups.js";
import type { StuckDetector } from "./stuck-detector.js";
import { recomputeAllWindows } from "./symbol-windows.js";
import type { WindowSnapshot } from "./windows.js";

export interface WindowLoopOptions {
  redis: Redis;
  intervalMs: number;
  rules: AlertRules;
  cooldownSec: number;
  metrics: P35Metrics;
  logger: Logger;
  /** Keep the per-symbol windows (ENABLE_SYMBOL_BREAKDOWN). Default true. */
  perSymbol?: boolean;
  /** The "why stuck" check, run on the buckets of each recompute. */
  stuck?: StuckDetector;
  /** The daily rollup, checked on each tick. */
  dayRollups?: DayRollups;
  /** Extra work after the windows (the status hash update); errors are logged like the loop's own. */
  afterTick?: () => Promise<void>;
  /** Clock (tests); default Date.now. */
  now?: () => number;
}

/**
 * Every `intervalMs`: recompute the 1m/5m/15m/1h windows and the per-symbol 15m/1h windows from the minute
 * buckets, check the alert conditions and publish those not cooling down, run the stuck check and the daily
 * rollup, then `afterTick`. A failed tick (Redis down) is logged
 * once per outage and retried on the next tick; the loop never stops on its own.
 */
export class WindowLoop {
  private readonly o: WindowLoopOptions;
  private readonly log: Logger;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private failing = false;
  private lastTick = 0;
  private ticks = 0;

  constructor(opts: WindowLoopOptions) {
    this.o = opts;
    this.now = opts.now ?? Date.now;
    this.log = opts.logger.child({ component: "window-loop" });
  }

  /** Whether the loop ran within max(10 s, 3 intervals + 2 s). */
  alive(): boolean {
    const maxStall = Math.max(10_000, 3 * this.o.intervalMs + 2000);
    return !this.stopped && this.lastTick > 0 && this.now() - this.lastTick <= maxStall;
  }

  /** Successful ticks so far. */
  get completedTicks(): number {
    return this.ticks;
  }

  start(): void {
    this.lastTick = this.now();
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = null;
        this.schedule(this.o.intervalMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  /** One recompute + alert check + afterTick. Resolves (never rejects). */
  async tick(): Promise<void> {
    try {
      const nowMs = this.now();
      const r = await recomputeAllWindows(this.o.redis, nowMs, this.o.perSymbol ?? true);
      await this.alerts(r.windows);
      await this.o.stuck?.check(r.buckets, r.nowMinute, nowMs);
      await this.o.dayRollups?.tick(nowMs);
      await this.o.afterTick?.();
      this.ticks++;
      if (this.failing) this.log.info({}, "window recompute resumed");
      this.failing = false;
    } catch (err) {
      if (!this.failing)
        this.log.warn({ err: { message: errorText(err) } }, "window recompute failed, retrying");
      this.failing = true;
    } finally {
      this.lastTick = this.now();
    }
  }

  private async alerts(snapshots: readonly WindowSnapshot[]): Promise<void> {
    for (const candidate of evaluateAlerts(snapshots, this.o.rules)) {
      if (!REASON_CODE_RE.test(candidate.reason)) {
        this.log.warn(
          { reason: candidate.reason.slice(0, 64) },
          "alert skipped, reason is not a bounded code",
        );
        continue;
      }
      const r = await raiseAlert(this.o.redis, candidate, {
        cooldownSec: this.o.cooldownSec,
        nowMs: this.now(),
      });
      if (!r.published) continue;
      this.o.metrics.alerts.inc({ severity: r.alert.severity });
      this.log.warn(
        {
          alertId: r.alert.alertId,
          window: r.alert.window,
          reason: r.alert.reason,
          severity: r.alert.severity,
          share: r.alert.share,
          score: r.alert.score,
          total: r.alert.total,
        },
        "p35 alert published",
      );
    }
  }
}
