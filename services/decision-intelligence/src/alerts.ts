import {
  ALERT_STREAM_MAXLEN,
  type AlertSeverity,
  encodeP35Alert,
  keys,
  type P35Alert,
  type P35AlertWindow,
  type P35MixAlertReason,
  type P35Window,
  p35AlertId,
  streams,
} from "@quantum/contracts";
import type { Redis } from "ioredis";
import type { P35Decision } from "./normalize.js";
import { ScriptReplyError } from "./script-reply-error.js";
import type { WindowSnapshot } from "./windows.js";

export interface AlertThresholds {
  medium: number;
  high: number;
  critical: number;
}

export interface AlertRules {
  thresholds: AlertThresholds;
  /** No alert while the alert's window holds fewer results than this. */
  minTotal: number;
}

/** An alert condition that holds now (before the cooldown check). */
export interface AlertCandidate {
  window: P35AlertWindow;
  reason: string;
  score: number;
  total: number;
  share: number;
  severity: AlertSeverity;
  /** The stuck symbol (stuck alerts only): its cooldown is per symbol. */
  symbol?: string;
}

/** The window of the gate alert (P3.5.1 roadmap: top reason of the 5m window). */
export const GATE_ALERT_WINDOW: P35Window = "5m";

/** Decision-mix conditions of the action-mapping guide, each raised as its own reason with severity HIGH. */
export const MIX_ALERT_RULES: ReadonlyArray<{
  reason: P35MixAlertReason;
  window: P35Window;
  decision: P35Decision;
  /** Fires when the decision's share is below `below` or above `above`. */
  below?: number;
  above?: number;
}> = [
  { reason: "execute_rate_low", window: "15m", decision: "EXECUTE", below: 0.2 },
  { reason: "blocked_rate_high", window: "15m", decision: "BLOCKED", above: 0.4 },
  { reason: "error_rate_high", window: "5m", decision: "ERROR", above: 0.1 },
];

/** Severity of a gate share, or null below the MEDIUM threshold. */
export function gateSeverity(share: number, t: AlertThresholds): AlertSeverity | null {
  if (share >= t.critical) return "CRITICAL";
  if (share >= t.high) return "HIGH";
  if (share >= t.medium) return "MEDIUM";
  return null;
}

/**
 * The alert conditions that hold in these window snapshots: the top reason other than `none` in 5m by share
 * (MEDIUM/HIGH/CRITICAL), and the decision-mix rules. Each only when its window holds >= minTotal results.
 * `none` never alerts. Pure.
 */
export function evaluateAlerts(snapshots: readonly WindowSnapshot[], rules: AlertRules): AlertCandidate[] {
  const byWindow = new Map(snapshots.map((s) => [s.window, s]));
  const out: AlertCandidate[] = [];
  const gate = byWindow.get(GATE_ALERT_WINDOW);
  if (gate !== undefined && gate.total >= rules.minTotal && gate.total > 0) {
    const top = gate.reasons.find((r) => r.reason !== "none");
    if (top !== undefined) {
      const share = top.count / gate.total;
      const severity = gateSeverity(share, rules.thresholds);
      if (severity !== null) {
        out.push({
          window: gate.window,
          reason: top.reason,
          score: top.count,
          total: gate.total,
          share,
          severity,
        });
      }
    }
  }
  for (const rule of MIX_ALERT_RULES) {
    const s = byWindow.get(rule.window);
    if (s === undefined || s.total < rules.minTotal || s.total === 0) continue;
    const score = s.decisions[rule.decision] ?? 0;
    const share = score / s.total;
    const fires =
      (rule.below !== undefined && share < rule.below) || (rule.above !== undefined && share > rule.above);
    if (fires)
      out.push({ window: s.window, reason: rule.reason, score, total: s.total, share, severity: "HIGH" });
  }
  return out;
}

/** The alert entry of a candidate at `nowMs` (share rounded to 4 decimals for readers). */
export function alertOf(c: AlertCandidate, nowMs: number): P35Alert {
  const timestamp = Math.floor(nowMs / 1000);
  return {
    window: c.window,
    reason: c.reason,
    score: c.score,
    total: c.total,
    share: Math.round(c.share * 10_000) / 10_000,
    timestamp,
    severity: c.severity,
    alertId: p35AlertId(timestamp, c.reason, c.symbol),
    ...(c.symbol !== undefined ? { symbol: c.symbol } : {}),
  };
}

export type RaiseOutcome = { published: true; entryId: string; alert: P35Alert } | { published: false };

/**
 * Publish an alert to `quantum:p35:alerts` (MAXLEN ~ 1000) unless its (reason, severity) pair - or, for a
 * stuck alert, its symbol - is cooling down; the cooldown is kept in Redis
 * (`quantum:p35:alert:cooldown:<reason>:<severity>` or `…:cooldown:stuck:<SYMBOL>`, EX cooldownSec), so a
 * restart does not re-alert. Cooldown check, publish and cooldown start are one atomic script.
 */
export async function raiseAlert(
  redis: Redis,
  candidate: AlertCandidate,
  opts: { cooldownSec: number; nowMs?: number },
): Promise<RaiseOutcome> {
  const alert = alertOf(candidate, opts.nowMs ?? Date.now());
  const fields = Object.entries(encodeP35Alert(alert)).flat();
  const reply = await redis.quantumRaiseAlert(
    alert.symbol !== undefined
      ? keys.p35StuckCooldown(alert.symbol)
      : keys.p35AlertCooldown(alert.reason, alert.severity),
    streams.p35Alerts,
    String(opts.cooldownSec),
    String(ALERT_STREAM_MAXLEN),
    alert.alertId,
    ...fields,
  );
  if (Array.isArray(reply) && reply[0] === "published" && typeof reply[1] === "string") {
    return { published: true, entryId: reply[1], alert };
  }
  if (Array.isArray(reply) && reply[0] === "cooldown") return { published: false };
  throw new ScriptReplyError("raiseAlert", `unexpected reply ${JSON.stringify(reply).slice(0, 200)}`);
}
