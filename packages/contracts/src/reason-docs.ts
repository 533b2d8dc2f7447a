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
 * What each bounded reason code means and what an operator does about it. The docs table
 * (docs/reasons.md, `pnpm docs:reasons`) is generated from these records, so a new code without a
 * description fails typechecking and the docs cannot drift from the enums.
 */
export interface ReasonDoc {
  readonly decision: string;
  readonly meaning: string;
  readonly action: string;
}

export const APPLY_REASON_DOCS: Readonly<Record<ApplyReason, ReasonDoc>> = {
  none: {
    decision: "EXECUTE",
    meaning: "Success: the order filled (or dry_run would execute).",
    action: "None.",
  },
  not_in_allowlist: {
    decision: "SKIP",
    meaning: "The symbol is not in APPLY_ALLOWLIST.",
    action: "Add it to APPLY_ALLOWLIST if it should trade.",
  },
  kill_switch_active: {
    decision: "BLOCKED",
    meaning: "The global kill switch (Redis key or APPLY_KILL_SWITCH) halted the plan.",
    action: "`quantumctl kill status`; `quantumctl kill off` once safe.",
  },
  trading_state_halted: {
    decision: "BLOCKED",
    meaning: "quantum:global:trading_state is HALTED (or an unknown value, which halts).",
    action: "`quantumctl state show`; `quantumctl state set ACTIVE` once safe.",
  },
  reduce_only_state: {
    decision: "BLOCKED",
    meaning: "Trading state REDUCE_ONLY refused an order that is not reduce-only.",
    action: "Expected while REDUCE_ONLY; closes still pass.",
  },
  kill_score_critical: {
    decision: "BLOCKED",
    meaning: "kill_score >= K_BLOCK_CRITICAL.",
    action: "Inspect the strategy's kill score inputs.",
  },
  kill_score_warning_risk_increase: {
    decision: "BLOCKED",
    meaning: "kill_score >= K_BLOCK_WARNING for an action that is not a close.",
    action: "Inspect the strategy; closes still pass in the warning band.",
  },
  kill_score_warning_close_ok: {
    decision: "EXECUTE",
    meaning: "Plan reason code: warning-band kill score, but closes are allowed.",
    action: "None.",
  },
  duplicate_plan: {
    decision: "SKIP",
    meaning: "This plan_id was already planned or executed; no second plan or order.",
    action: "None; a standing proposal is deduplicated.",
  },
  action_hold: { decision: "SKIP", meaning: "The proposal says HOLD.", action: "None." },
  missing_new_sl: {
    decision: "ERROR",
    meaning: "UPDATE_SL without new_sl_proposed.",
    action: "Fix the proposal publisher.",
  },
  unknown_action: {
    decision: "ERROR",
    meaning: "The proposal's action is not one of the five known actions.",
    action: "Fix the proposal publisher.",
  },
  "permit_timeout_or_missing:missing_both": {
    decision: "BLOCKED",
    meaning: "Neither permit arrived within APPLY_PERMIT_WAIT_MS.",
    action: "Check the Governor and P3.3 (`quantumctl dashboard e`).",
  },
  "permit_timeout_or_missing:missing_governor": {
    decision: "BLOCKED",
    meaning: "The Governor permit did not arrive in time.",
    action: "Check the Governor consumer group lag and service.",
  },
  "permit_timeout_or_missing:missing_p33": {
    decision: "BLOCKED",
    meaning: "The P3.3 permit did not arrive in time.",
    action: "Check quantum-position-state-brain health and group p33 lag.",
  },
  governor_blocked: {
    decision: "BLOCKED",
    meaning: "The Governor wrote quantum:governor:block:<plan_id>; the wait ended at once.",
    action: "Read the block record's reason (`quantumctl permit show <plan_id>`).",
  },
  governor_denied: {
    decision: "BLOCKED",
    meaning: "The Governor permit said granted=false.",
    action: "Governor policy; see its logs.",
  },
  p33_permit_denied: {
    decision: "BLOCKED",
    meaning: "P3.3 denied the plan; its reason is in detail.",
    action: "See the P3.3 reasons below.",
  },
  invalid_safe_qty: {
    decision: "BLOCKED",
    meaning: "P3.3 allowed with safe_qty <= 0 (position below one step).",
    action: "Check the position size against the symbol's step.",
  },
  qty_below_min: {
    decision: "BLOCKED",
    meaning: "The quantity floored to the step is below the symbol's minimum.",
    action: "Position too small to close by this plan.",
  },
  exchange_rejected: {
    decision: "ERROR",
    meaning: "The venue rejected the order; the code is in detail.",
    action: "Read detail (e.g. -2022 ReduceOnly rejected) and reconcile.",
  },
  exchange_unknown_resolved_not_filled: {
    decision: "ERROR",
    meaning: "The send outcome was unknown and the order was not found by client id.",
    action: "No order exists; the next proposal may retry.",
  },
  exchange_rate_limited: {
    decision: "BLOCKED",
    meaning: "429/418 from the venue; the layer backs off per Retry-After.",
    action: "Watch exchange_rate_limited_total; reduce request load.",
  },
  missing_credentials: {
    decision: "ERROR",
    meaning: "The venue needs API credentials that are not configured.",
    action: "Set the BINANCE_* variables in the env file.",
  },
  internal_error: {
    decision: "ERROR",
    meaning: "An internal failure (Redis error, interrupted before submit); nothing was sent.",
    action: "Read detail and the service logs.",
  },
  venue_mismatch: {
    decision: "BLOCKED",
    meaning:
      "The P3.3 permit was sized from another venue's position than the one this Apply Layer trades on.",
    action: "Set P33_EXCHANGE to the Apply Layer's venue (APPLY_MODE) and restart P3.3.",
  },
  stop_would_trigger: {
    decision: "BLOCKED",
    meaning: "The new stop price is already through the mark price; the working stop was left untouched.",
    action: "Re-propose UPDATE_SL with a trigger on the right side of the mark.",
  },
  protective_stop_restored: {
    decision: "ERROR",
    meaning: "The venue refused the replacement stop; the previous stop was placed again at its old trigger.",
    action: "Read detail for the venue's refusal; the position is still protected by the old stop.",
  },
  ambiguous_hedge_position: {
    decision: "BLOCKED",
    meaning: "Hedge mode with both legs open and a proposal that does not name the leg (position_side).",
    action: "Re-propose with position_side LONG or SHORT.",
  },
  p33_permit_stale: {
    decision: "BLOCKED",
    meaning: "The P3.3 permit was sized before the symbol's last fill; nothing was sent.",
    action: "Re-propose; the next permit is sized from the new position.",
  },
};

export const P33_REASON_DOCS: Readonly<Record<P33DenyReason | typeof P33_ALLOW_REASON, ReasonDoc>> = {
  sanity_checks_passed: {
    decision: "allow",
    meaning: "Every check passed; safe_qty is set.",
    action: "None.",
  },
  invalid_plan: {
    decision: "deny",
    meaning: "Plan fields missing or malformed (also dead-lettered).",
    action: "Inspect quantum:stream:deadletter.",
  },
  not_in_allowlist: {
    decision: "deny",
    meaning: "Symbol not in P33_ALLOWLIST.",
    action: "Align P33_ALLOWLIST.",
  },
  no_exchange_snapshot: {
    decision: "deny",
    meaning: "No position snapshot, even after one bounded fetch.",
    action: "Check venue connectivity and P3.3 logs.",
  },
  stale_exchange_state: {
    decision: "deny",
    meaning: "Snapshot older than P33_STALE_THRESHOLD_SEC.",
    action: "Check the venue and the snapshot loop (p33_snapshot_age_seconds).",
  },
  no_position: { decision: "deny", meaning: "The exchange position is flat.", action: "Nothing to close." },
  reconcile_required_side_mismatch: {
    decision: "deny",
    meaning: "Ledger and exchange disagree on the side.",
    action: "`quantumctl position <SYMBOL>`, then `quantumctl ledger set`.",
  },
  reconcile_required_qty_mismatch: {
    decision: "deny",
    meaning: "Ledger and exchange amounts differ by more than the tolerance.",
    action: "`quantumctl position <SYMBOL>`, then `quantumctl ledger set`.",
  },
  cooldown_in_flight: {
    decision: "deny",
    meaning: "A fill happened less than P33_COOLDOWN_SEC ago.",
    action: "Expected right after a fill.",
  },
  ambiguous_hedge_position: {
    decision: "deny",
    meaning: "Hedge mode: both legs are open and the plan does not name which one to close.",
    action: "Re-propose with position_side LONG or SHORT.",
  },
  reconcile_hold_active: {
    decision: "deny",
    meaning: "quantum:reconcile:hold:<SYMBOL> is set.",
    action: "Remove the hold once reconciled.",
  },
};

export const P35_MIX_ALERT_DOCS: Readonly<Record<P35MixAlertReason, ReasonDoc>> = {
  execute_rate_low: {
    decision: "alert HIGH",
    meaning: "EXECUTE below 20 % of results over 15m.",
    action: "`quantumctl dashboard c` for the dominant gate.",
  },
  blocked_rate_high: {
    decision: "alert HIGH",
    meaning: "BLOCKED above 40 % of results over 15m.",
    action: "`quantumctl dashboard c`, then the runbook for that gate.",
  },
  error_rate_high: {
    decision: "alert HIGH",
    meaning: "ERROR above 10 % of results over 5m.",
    action: "Service logs; exchange and Redis health.",
  },
};

/** Every documented code in enum order, per table (used by the generator and its drift test). */
export const REASON_TABLES = [
  { title: "Apply Layer results (`apply.result` reason)", codes: APPLY_REASONS, docs: APPLY_REASON_DOCS },
  {
    title: "P3.3 permits (`quantum:permit:p33:<plan_id>` reason)",
    codes: [P33_ALLOW_REASON, ...P33_DENY_REASONS] as const,
    docs: P33_REASON_DOCS,
  },
  { title: "P3.5 decision-mix alerts", codes: P35_MIX_ALERT_REASONS, docs: P35_MIX_ALERT_DOCS },
] as const;

/** The generated docs/reasons.md text. */
export function renderReasonDocs(): string {
  const out = [
    "# Reason codes",
    "",
    "Generated from `packages/contracts/src/reason-docs.ts` by `pnpm docs:reasons`; do not edit by hand.",
    "Every reason written to a result, a permit or a metric label is one of these bounded codes (SPEC §5);",
    "exchange error codes and free text go to `detail`.",
    "",
  ];
  for (const t of REASON_TABLES) {
    out.push(`## ${t.title}`, "", "| code | decision | meaning | what to do |", "|---|---|---|---|");
    for (const code of t.codes) {
      const d = (t.docs as Readonly<Record<string, ReasonDoc>>)[code];
      if (d === undefined) throw new Error(`reason ${code} has no description`);
      out.push(`| \`${code}\` | ${d.decision} | ${d.meaning} | ${d.action} |`);
    }
    out.push("");
  }
  return out.join("\n");
}
