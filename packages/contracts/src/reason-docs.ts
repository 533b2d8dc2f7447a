import {
  APPLY_REASONS,
  type ApplyReason,
  P33_ALLOW_REASON,
  P33_DENY_REASONS,
  type P33DenyReason,
  P35_MIX_ALERT_REASONS,
  type P35MixAlertReason,
} from "./reasons.js";

/**
 * The action-mapping guide: what each bounded reason code means, how to look into it and what an operator
 * does about it. This is the one place it is written: docs/reasons.md and the reason tables of
 * docs/operations/p35-action-mapping.md are generated from it (`pnpm docs:reasons`, with drift tests), and
 * the P3.5 "why are we not trading?" page shows the same actions. A new code without a record fails
 * typechecking. `<SYMBOL>` in a text is filled in where the symbol is known.
 */
export interface ReasonDoc {
  readonly decision: string;
  readonly meaning: string;
  /** A command that shows the cause ("—" when there is nothing to look at). */
  readonly diagnose: string;
  /** What fixes it. */
  readonly action: string;
}

export const APPLY_REASON_DOCS: Readonly<Record<ApplyReason, ReasonDoc>> = {
  none: {
    decision: "EXECUTE",
    meaning: "Success: the order filled (or dry_run would execute).",
    diagnose: "—",
    action: "None.",
  },
  not_in_allowlist: {
    decision: "SKIP",
    meaning: "The symbol is not in APPLY_ALLOWLIST.",
    diagnose: "`grep ALLOWLIST /etc/quantum/*.env`",
    action: "Add the symbol to APPLY_ALLOWLIST and P33_ALLOWLIST, or stop the strategy proposing it.",
  },
  kill_switch_active: {
    decision: "BLOCKED",
    meaning: "The global kill switch (Redis key or APPLY_KILL_SWITCH) halted the plan.",
    diagnose: "`quantumctl kill status`",
    action: "Resume with `quantumctl kill off` once the incident is over.",
  },
  trading_state_halted: {
    decision: "BLOCKED",
    meaning: "quantum:global:trading_state is HALTED (or an unknown value, which halts).",
    diagnose: "`quantumctl state show`",
    action: "`quantumctl state set ACTIVE` once safe.",
  },
  reduce_only_state: {
    decision: "BLOCKED",
    meaning: "Trading state REDUCE_ONLY refused an order that is not reduce-only.",
    diagnose: "`quantumctl state show`",
    action: "Expected while REDUCE_ONLY (closes still pass); `quantumctl state set ACTIVE` lifts it.",
  },
  kill_score_critical: {
    decision: "BLOCKED",
    meaning: "kill_score >= K_BLOCK_CRITICAL (0.80).",
    diagnose: "`redis-cli HGETALL quantum:harvest:proposal:<SYMBOL>`",
    action:
      "Strategy-side: the score says the market is too hostile; change K_BLOCK_CRITICAL only with the strategy owner.",
  },
  kill_score_warning_risk_increase: {
    decision: "BLOCKED",
    meaning: "kill_score >= K_BLOCK_WARNING (0.60) for an action that is not a close.",
    diagnose: "`redis-cli HGETALL quantum:harvest:proposal:<SYMBOL>`",
    action: "Expected; closes still pass in the warning band.",
  },
  kill_score_warning_close_ok: {
    decision: "EXECUTE",
    meaning: "Plan reason code: warning-band kill score, but closes are allowed.",
    diagnose: "—",
    action: "None.",
  },
  duplicate_plan: {
    decision: "SKIP",
    meaning: "This plan_id was already planned or executed; no second plan or order.",
    diagnose: "`redis-cli EXISTS quantum:apply:plan_published:<plan_id>`",
    action: "None; a steady stream means the proposal is not being recomputed.",
  },
  action_hold: {
    decision: "SKIP",
    meaning: "The proposal says HOLD.",
    diagnose: "`redis-cli HGET quantum:harvest:proposal:<SYMBOL> harvest_action`",
    action: "None; a dominant action_hold means the strategy wants no action.",
  },
  missing_new_sl: {
    decision: "ERROR",
    meaning: "UPDATE_SL without new_sl_proposed.",
    diagnose: "`redis-cli HGETALL quantum:harvest:proposal:<SYMBOL>`",
    action: "Fix the proposal publisher.",
  },
  unknown_action: {
    decision: "ERROR",
    meaning: "The proposal's action is not FULL_CLOSE_PROPOSED, PARTIAL_75, PARTIAL_50, UPDATE_SL or HOLD.",
    diagnose: "`redis-cli HGETALL quantum:harvest:proposal:<SYMBOL>`",
    action: "Fix the proposal publisher.",
  },
  "permit_timeout_or_missing:missing_both": {
    decision: "BLOCKED",
    meaning: "Neither permit arrived within APPLY_PERMIT_WAIT_MS.",
    diagnose: "`redis-cli XINFO GROUPS quantum:stream:apply.plan`",
    action:
      "Both permit writers are down or Redis is slow: restore the Governor and P3.3, check `redis-cli --latency`.",
  },
  "permit_timeout_or_missing:missing_governor": {
    decision: "BLOCKED",
    meaning: "The Governor permit did not arrive within APPLY_PERMIT_WAIT_MS.",
    diagnose: "`redis-cli XINFO GROUPS quantum:stream:apply.plan` (group `governor`)",
    action: "Restore the Governor: its consumer group is not answering plans.",
  },
  "permit_timeout_or_missing:missing_p33": {
    decision: "BLOCKED",
    meaning: "The P3.3 permit did not arrive in time.",
    diagnose: "`quantumctl dashboard e`, `systemctl status quantum-position-state-brain`",
    action: "Restore P3.3; it answers every plan within milliseconds when healthy.",
  },
  governor_blocked: {
    decision: "BLOCKED",
    meaning: "The Governor wrote quantum:governor:block:<plan_id>; the wait ended at once.",
    diagnose: "`quantumctl permit show <plan_id>`",
    action: "A Governor-side decision; its reason is in the block record.",
  },
  governor_denied: {
    decision: "BLOCKED",
    meaning: "The Governor permit said granted=false.",
    diagnose: "`quantumctl permit show <plan_id>`",
    action: "Governor policy; see its logs.",
  },
  p33_permit_denied: {
    decision: "BLOCKED",
    meaning: "P3.3 denied the plan; its reason is in detail.",
    diagnose: "`redis-cli XREVRANGE quantum:stream:apply.result + - COUNT 20`",
    action: "Follow the row of the P3.3 reason (P3.3 permits table).",
  },
  invalid_safe_qty: {
    decision: "BLOCKED",
    meaning: "P3.3 allowed with safe_qty <= 0 (position below one step).",
    diagnose: "`quantumctl permit show <plan_id>`",
    action:
      "Check the position size against the symbol's step; report a bug with the permit value if it is not dust.",
  },
  qty_below_min: {
    decision: "BLOCKED",
    meaning: "The quantity floored to the step is below the symbol's minimum.",
    diagnose: "`quantumctl position <SYMBOL>`",
    action: "Dust position: close it by hand on the exchange if it matters.",
  },
  exchange_rejected: {
    decision: "ERROR",
    meaning: "The venue rejected the order; the code is in detail.",
    diagnose: "`redis-cli XREVRANGE quantum:stream:apply.result + - COUNT 20`",
    action:
      "Read detail: -2022 position already smaller (reconcile), -1111 quantity precision, -2019 margin.",
  },
  exchange_unknown_resolved_not_filled: {
    decision: "ERROR",
    meaning: "The send outcome was unknown and the lookup by client id shows it never filled.",
    diagnose: "`redis-cli HGETALL quantum:apply:exec:<plan_id>`",
    action: "None; no second order is sent for the plan, the next proposal may retry.",
  },
  exchange_rate_limited: {
    decision: "BLOCKED",
    meaning: "429/418 from the venue past APPLY_RATE_LIMIT_MAX_WAIT_MS.",
    diagnose: "`curl -s localhost:8000/metrics | grep exchange_rate_limited_total`",
    action: "Reduce request load on the account (other bots, request weight).",
  },
  missing_credentials: {
    decision: "ERROR",
    meaning: "The venue needs API credentials that are not configured.",
    diagnose: "`grep -c BINANCE_ /etc/quantum/apply-layer.env`",
    action: "Set the BINANCE_* variables in the env file and restart.",
  },
  internal_error: {
    decision: "ERROR",
    meaning: "An internal failure (Redis error, interrupted before submit); nothing was sent.",
    diagnose: "`journalctl -u quantum-apply-layer -n 200 --no-pager -o cat`",
    action: "Read detail and the service log; report with the log lines.",
  },
  venue_mismatch: {
    decision: "BLOCKED",
    meaning:
      "The P3.3 permit was sized from another venue's position than the one this Apply Layer trades on.",
    diagnose: "`quantumctl mode`",
    action: "Set P33_EXCHANGE to the Apply Layer's venue (APPLY_MODE) and restart P3.3.",
  },
  stop_would_trigger: {
    decision: "BLOCKED",
    meaning: "The new stop price is already through the mark price; the working stop was left untouched.",
    diagnose: "`quantumctl position <SYMBOL>` (mark price) and the plan's new_sl_proposed",
    action: "Re-propose UPDATE_SL with a trigger on the right side of the mark.",
  },
  protective_stop_restored: {
    decision: "ERROR",
    meaning: "The venue refused the replacement stop; the previous stop was placed again at its old trigger.",
    diagnose: "`redis-cli HGETALL quantum:apply:protective_stop:<SYMBOL>`",
    action: "Read detail for the venue's refusal; the position is still protected by the old stop.",
  },
  ambiguous_hedge_position: {
    decision: "BLOCKED",
    meaning: "Hedge mode with both legs open and a proposal that does not name the leg (position_side).",
    diagnose: "`quantumctl position <SYMBOL>` (both legs)",
    action: "Re-propose with position_side LONG or SHORT.",
  },
  p33_permit_stale: {
    decision: "BLOCKED",
    meaning: "The P3.3 permit was sized before the symbol's last fill; nothing was sent.",
    diagnose: "`redis-cli GET quantum:cooldown:last_exec_ts:<SYMBOL>`",
    action: "Re-propose; the next permit is sized from the new position.",
  },
};

export const P33_REASON_DOCS: Readonly<Record<P33DenyReason | typeof P33_ALLOW_REASON, ReasonDoc>> = {
  sanity_checks_passed: {
    decision: "allow",
    meaning: "Every check passed; safe_qty is set.",
    diagnose: "—",
    action: "None.",
  },
  invalid_plan: {
    decision: "deny",
    meaning: "Plan fields missing or malformed (also dead-lettered).",
    diagnose: "`redis-cli XREVRANGE quantum:stream:deadletter + - COUNT 5`",
    action: "Fix the plan producer (another Apply Layer version?).",
  },
  not_in_allowlist: {
    decision: "deny",
    meaning: "Symbol not in P33_ALLOWLIST.",
    diagnose: "`grep P33_ALLOWLIST /etc/quantum/position-state-brain.env`",
    action: "Keep P33_ALLOWLIST and APPLY_ALLOWLIST equal.",
  },
  no_exchange_snapshot: {
    decision: "deny",
    meaning: "No position snapshot, even after one bounded fetch.",
    diagnose: "`redis-cli HGETALL quantum:position:snapshot:<SYMBOL>`",
    action: "Check venue connectivity and the credentials of P3.3.",
  },
  stale_exchange_state: {
    decision: "deny",
    meaning: "Snapshot older than P33_STALE_THRESHOLD_SEC.",
    diagnose: "`redis-cli HGET quantum:position:snapshot:<SYMBOL> ts_epoch`",
    action: "Check the venue and the snapshot loop (p33_snapshot_age_seconds, exchange_rate_limited_total).",
  },
  no_position: {
    decision: "deny",
    meaning: "The exchange position is flat.",
    diagnose: "`quantumctl position <SYMBOL>`",
    action:
      "None if it was just closed; otherwise the strategy proposes closes for positions that do not exist.",
  },
  reconcile_required_side_mismatch: {
    decision: "deny",
    meaning: "Ledger and exchange disagree on the side.",
    diagnose: "`quantumctl position <SYMBOL>`",
    action:
      "Reconcile the ledger: `quantumctl ledger set <SYMBOL> <amt>` with the exchange amount once verified.",
  },
  reconcile_required_qty_mismatch: {
    decision: "deny",
    meaning: "Ledger and exchange amounts differ by more than the tolerance.",
    diagnose: "`quantumctl position <SYMBOL>`",
    action:
      "Reconcile the ledger: `quantumctl ledger set <SYMBOL> <amt>` with the exchange amount once verified.",
  },
  cooldown_in_flight: {
    decision: "deny",
    meaning: "A fill happened less than P33_COOLDOWN_SEC ago.",
    diagnose: "`redis-cli GET quantum:cooldown:last_exec_ts:<SYMBOL>`",
    action: "None; expected right after a fill.",
  },
  ambiguous_hedge_position: {
    decision: "deny",
    meaning: "Hedge mode: both legs are open and the plan does not name which one to close.",
    diagnose: "`quantumctl position <SYMBOL>` (both legs)",
    action: "Re-propose with position_side LONG or SHORT.",
  },
  reconcile_hold_active: {
    decision: "deny",
    meaning: "An operator holds the symbol (quantum:reconcile:hold:<SYMBOL> is set).",
    diagnose: "`redis-cli GET quantum:reconcile:hold:<SYMBOL>`",
    action: "Remove the hold once reconciled: `redis-cli DEL quantum:reconcile:hold:<SYMBOL>`.",
  },
};

export const P35_MIX_ALERT_DOCS: Readonly<Record<P35MixAlertReason, ReasonDoc>> = {
  execute_rate_low: {
    decision: "alert HIGH",
    meaning: "EXECUTE below 20 % of results over 15m.",
    diagnose: "`quantumctl dashboard c`",
    action: "The dominant gate is the cause: follow its row.",
  },
  blocked_rate_high: {
    decision: "alert HIGH",
    meaning: "BLOCKED above 40 % of results over 15m.",
    diagnose: "`quantumctl dashboard c`",
    action: "Follow the row of the top BLOCKED reason.",
  },
  error_rate_high: {
    decision: "alert HIGH",
    meaning: "ERROR above 10 % of results over 5m.",
    diagnose: "`quantumctl dashboard a`",
    action: "The ERROR rows above; check producers, exchange and Redis health, service logs.",
  },
};

/** Every documented code in enum order, per table (used by the generators, their drift tests and the page). */
export const REASON_TABLES = [
  { title: "Apply Layer results (`apply.result` reason)", codes: APPLY_REASONS, docs: APPLY_REASON_DOCS },
  {
    title: "P3.3 permits (`quantum:permit:p33:<plan_id>` reason)",
    codes: [P33_ALLOW_REASON, ...P33_DENY_REASONS] as const,
    docs: P33_REASON_DOCS,
  },
  { title: "P3.5 decision-mix alerts", codes: P35_MIX_ALERT_REASONS, docs: P35_MIX_ALERT_DOCS },
] as const;

/**
 * The record of a reason code as P3.5 counts it: an Apply Layer reason first, then a P3.3 reason (P3.3 deny
 * reasons appear in a result's detail), then a P3.5 alert reason; null for a code nobody documents.
 * `<SYMBOL>` is filled in when a symbol is given.
 */
export function reasonDoc(code: string, symbol?: string): ReasonDoc | null {
  for (const t of REASON_TABLES) {
    const d = (t.docs as Readonly<Record<string, ReasonDoc>>)[code];
    if (d !== undefined && Object.hasOwn(t.docs, code))
      return symbol === undefined ? d : withSymbol(d, symbol);
  }
  return null;
}

function withSymbol(d: ReasonDoc, symbol: string): ReasonDoc {
  const fill = (s: string) => s.replaceAll("<SYMBOL>", symbol);
  return {
    decision: d.decision,
    meaning: fill(d.meaning),
    diagnose: fill(d.diagnose),
    action: fill(d.action),
  };
}
