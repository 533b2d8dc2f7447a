/**
 * Bounded reason codes. Every reason written to a result, a permit or a metric label comes from
 * one of these lists. Exchange error codes and other free text go to `detail`, never into a reason.
 */

export const DECISIONS = ["EXECUTE", "SKIP", "BLOCKED", "ERROR"] as const;
export type Decision = (typeof DECISIONS)[number];

export const ACTIONS = ["FULL_CLOSE_PROPOSED", "PARTIAL_75", "PARTIAL_50", "UPDATE_SL", "HOLD"] as const;
export type Action = (typeof ACTIONS)[number];

export const MISSING_PERMIT_KINDS = ["missing_both", "missing_governor", "missing_p33"] as const;
export type MissingPermitKind = (typeof MISSING_PERMIT_KINDS)[number];

export const APPLY_REASONS = [
  "none",
  "not_in_allowlist",
  "kill_switch_active",
  "trading_state_halted",
  "reduce_only_state",
  "kill_score_critical",
  "kill_score_warning_risk_increase",
  "kill_score_warning_close_ok",
  "duplicate_plan",
  "action_hold",
  "missing_new_sl",
  "unknown_action",
  "permit_timeout_or_missing:missing_both",
  "permit_timeout_or_missing:missing_governor",
  "permit_timeout_or_missing:missing_p33",
  "governor_blocked",
  "governor_denied",
  "p33_permit_denied",
  "invalid_safe_qty",
  "qty_below_min",
  "exchange_rejected",
  "exchange_unknown_resolved_not_filled",
  "exchange_rate_limited",
  "missing_credentials",
  "internal_error",
  "venue_mismatch",
  "stop_would_trigger",
  "protective_stop_restored",
  "ambiguous_hedge_position",
  "p33_permit_stale",
] as const;
export type ApplyReason = (typeof APPLY_REASONS)[number];

export const P33_DENY_REASONS = [
  "invalid_plan",
  "not_in_allowlist",
  "no_exchange_snapshot",
  "stale_exchange_state",
  "no_position",
  "reconcile_required_side_mismatch",
  "reconcile_required_qty_mismatch",
  "cooldown_in_flight",
  "reconcile_hold_active",
  "ambiguous_hedge_position",
] as const;
export type P33DenyReason = (typeof P33_DENY_REASONS)[number];
export const P33_ALLOW_REASON = "sanity_checks_passed" as const;

export const ALERT_SEVERITIES = ["MEDIUM", "HIGH", "CRITICAL"] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** Reasons P3.5 raises for decision-mix conditions (the action-mapping guide, docs/operations/p35-action-mapping.md). */
export const P35_MIX_ALERT_REASONS = ["execute_rate_low", "blocked_rate_high", "error_rate_high"] as const;
export type P35MixAlertReason = (typeof P35_MIX_ALERT_REASONS)[number];

/** Outcomes of the consume script. */
export const CONSUME_OUTCOMES = [
  "ok",
  "kill_switch_active",
  "trading_state_halted",
  "missing_both",
  "missing_governor",
  "missing_p33",
  "already_executed",
] as const;
export type ConsumeOutcome = (typeof CONSUME_OUTCOMES)[number];

/** Execution record states. */
export const EXEC_STATES = ["CLAIMED", "SUBMITTING", "FILLED", "REJECTED", "UNKNOWN", "DONE"] as const;
export type ExecState = (typeof EXEC_STATES)[number];

export const APPLY_MODES = ["dry_run", "paper", "testnet", "production"] as const;
export type ApplyMode = (typeof APPLY_MODES)[number];

export const EXCHANGE_VENUES = ["paper", "testnet", "production"] as const;
export type ExchangeVenue = (typeof EXCHANGE_VENUES)[number];

export const TRADING_STATES = ["ACTIVE", "REDUCE_ONLY", "HALTED"] as const;
export type TradingState = (typeof TRADING_STATES)[number];

/** `apply_executed_total{status}` label values. */
export const EXECUTED_STATUSES = [
  "success",
  "kill_switch",
  "testnet_bypass",
  "rejected",
  "unknown",
  "error",
] as const;
export type ExecutedStatus = (typeof EXECUTED_STATUSES)[number];

export function isApplyReason(s: string): s is ApplyReason {
  return (APPLY_REASONS as readonly string[]).includes(s);
}

/**
 * Reduce free text to a bounded code: the longest known code that the text starts with
 * (`permit_timeout_or_missing:missing_p33` before `permit_timeout_or_missing`), else the text before the first
 * `:`, lower-cased and stripped to `[a-z0-9_]`, at most 64 chars. The remainder is detail.
 */
export function boundReason(
  raw: string,
  known: readonly string[] = ALL_KNOWN_REASONS,
): { reason: string; detail: string } {
  const text = raw.trim();
  if (text === "") return { reason: "none", detail: "" };
  // A text that is exactly a known code is the common case (every result this system writes): no longer
  // code can match it, so it is its own reason without scanning the list.
  if (known === ALL_KNOWN_REASONS ? KNOWN_REASON_SET.has(text) : known.includes(text))
    return { reason: text, detail: "" };
  let best = "";
  for (const code of known) {
    if (
      (text === code || text.startsWith(`${code}:`) || text.startsWith(`${code} `)) &&
      code.length > best.length
    ) {
      best = code;
    }
  }
  if (best !== "") return { reason: best, detail: text.slice(best.length).replace(/^[:\s]+/, "") };
  const idx = text.indexOf(":");
  const head = idx >= 0 ? text.slice(0, idx) : text;
  const detail = idx >= 0 ? text.slice(idx + 1).trim() : "";
  const code = head
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 64);
  return { reason: code === "" ? "unknown" : code, detail };
}

export const ALL_KNOWN_REASONS: readonly string[] = [
  ...new Set<string>([...APPLY_REASONS, ...P33_DENY_REASONS, P33_ALLOW_REASON, ...P35_MIX_ALERT_REASONS]),
];
const KNOWN_REASON_SET: ReadonlySet<string> = new Set(ALL_KNOWN_REASONS);

/** Order sides (Binance `side`). */
export const ORDER_SIDES = ["BUY", "SELL"] as const;
export type OrderSide = (typeof ORDER_SIDES)[number];

/** Position sides of a snapshot: the sign of the position, NONE when flat. */
export const POSITION_SIDES = ["LONG", "SHORT", "NONE"] as const;
export type PositionSide = (typeof POSITION_SIDES)[number];

/** The leg a proposal or plan names in hedge mode (absent in one-way mode). */
export const HEDGE_LEGS = ["LONG", "SHORT"] as const;
export type HedgeLeg = (typeof HEDGE_LEGS)[number];

/** The position a P3.3 permit sized: `BOTH` in one-way mode, the leg in hedge mode (Binance `positionSide`). */
export const PERMIT_POSITION_SIDES = ["BOTH", "LONG", "SHORT"] as const;
export type PermitPositionSide = (typeof PERMIT_POSITION_SIDES)[number];
