import {
  type ApplyPlan,
  type ApplyReason,
  CLOSE_FRACTIONS,
  type CloseAction,
  type Decision,
  type HarvestProposal,
  isCloseAction,
  type JsonValue,
  pyFloatRepr,
  type ReasonContext,
} from "@quantum/contracts";

/**
 * Planning: the gates in their order, each a small named check, first match wins. Pure: every
 * input is passed in, nothing is read or written here.
 */

/** Step names of the plan's `steps` (logged as "Executing step CLOSE_PARTIAL_75"). */
const STEP_NAMES: Readonly<Record<CloseAction, string>> = {
  FULL_CLOSE_PROPOSED: "CLOSE_FULL",
  PARTIAL_75: "CLOSE_PARTIAL_75",
  PARTIAL_50: "CLOSE_PARTIAL_50",
};

export interface PlanningRules {
  readonly envKillSwitch: boolean;
  readonly allowlist: ReadonlySet<string>;
  readonly kBlockCritical: number;
  readonly kBlockWarning: number;
}

/** What is already known about this plan_id. */
export interface PlanHistory {
  /** An execution record exists: the plan was executed (or claimed) before. */
  readonly executed: boolean;
}

export interface GateOutcome {
  readonly decision: Decision;
  /** `none` for EXECUTE. */
  readonly reason: ApplyReason;
  /** Codes written to the plan's reason_codes. */
  readonly reasonCodes: readonly string[];
  /** The facts behind the reason (the result's detail). */
  readonly context: ReasonContext;
}

type Check = (p: HarvestProposal, rules: PlanningRules, history: PlanHistory) => GateOutcome | null;

const stop = (decision: Decision, reason: ApplyReason, context: ReasonContext = {}): GateOutcome => ({
  decision,
  reason,
  reasonCodes: [reason],
  context,
});

/** Also the first check of the execution entry gate (which has a plan, not a proposal). */
export const checkEnvKillSwitch = (_p: Pick<HarvestProposal, "symbol">, rules: PlanningRules) =>
  rules.envKillSwitch ? stop("BLOCKED", "kill_switch_active", { apply_kill_switch: true }) : null;

/** Also the second check of the execution entry gate. */
export const checkAllowlist = (p: Pick<HarvestProposal, "symbol">, rules: PlanningRules) =>
  rules.allowlist.has(p.symbol) ? null : stop("SKIP", "not_in_allowlist", { symbol: p.symbol });

export const checkKillScoreCritical: Check = (p, rules) =>
  p.killScore >= rules.kBlockCritical
    ? stop("BLOCKED", "kill_score_critical", {
        kill_score: p.killScore,
        k_block_critical: rules.kBlockCritical,
      })
    : null;

/** Warning band: closes go on (flagged later), anything else would add risk. */
export const checkKillScoreWarning: Check = (p, rules) =>
  p.killScore >= rules.kBlockWarning && !isCloseAction(p.action)
    ? stop("BLOCKED", "kill_score_warning_risk_increase", {
        kill_score: p.killScore,
        k_block_warning: rules.kBlockWarning,
        action: p.action,
      })
    : null;

export const checkDuplicate: Check = (_p, _rules, history) =>
  history.executed ? stop("SKIP", "duplicate_plan") : null;

export const checkHold: Check = (p) => (p.action === "HOLD" ? stop("SKIP", "action_hold") : null);

export const checkUpdateSl: Check = (p) =>
  p.action === "UPDATE_SL" && (p.newSlProposed === null || !(p.newSlProposed > 0))
    ? stop("ERROR", "missing_new_sl", { new_sl_proposed: p.newSlProposed })
    : null;

export const checkKnownAction: Check = (p) =>
  isCloseAction(p.action) || p.action === "UPDATE_SL"
    ? null
    : stop("ERROR", "unknown_action", { action: p.action });

/** The planning gates in order. */
export const GATES: readonly Check[] = [
  checkEnvKillSwitch,
  checkAllowlist,
  checkKillScoreCritical,
  checkKillScoreWarning,
  checkDuplicate,
  checkHold,
  checkUpdateSl,
  checkKnownAction,
];

/** Run the gates; EXECUTE when none stops the plan. Never returns an empty or unknown decision. */
export function decide(p: HarvestProposal, rules: PlanningRules, history: PlanHistory): GateOutcome {
  for (const gate of GATES) {
    const out = gate(p, rules, history);
    if (out !== null) return out;
  }
  const warned = p.killScore >= rules.kBlockWarning && isCloseAction(p.action);
  return {
    decision: "EXECUTE",
    reason: "none",
    reasonCodes: warned ? ["kill_score_warning_close_ok"] : [],
    context: {},
  };
}

/** Planned steps (JSON list of the plan entry). */
export function planSteps(p: HarvestProposal, gate: GateOutcome): JsonValue[] {
  if (gate.decision !== "EXECUTE") return [];
  if (isCloseAction(p.action)) {
    return [
      {
        step: STEP_NAMES[p.action],
        type: "market_reduce_only",
        fraction: CLOSE_FRACTIONS[p.action],
      },
    ];
  }
  return [
    {
      step: "UPDATE_SL",
      type: "stop_market_close_position",
      stop_price: p.newSlProposed === null ? null : pyFloatRepr(p.newSlProposed),
    },
  ];
}

/** A quantity/price estimate for the Governor, from the last P3.3 snapshot (null when unknown). */
export interface PlanEstimate {
  readonly closeQty: string | null;
  readonly price: string | null;
}

export function buildPlan(
  p: HarvestProposal,
  planId: string,
  gate: GateOutcome,
  estimate: PlanEstimate,
  nowSec: number,
): ApplyPlan {
  return {
    planId,
    symbol: p.symbol,
    action: p.action,
    killScore: p.killScore,
    kRegimeFlip: p.kRegimeFlip,
    kSigmaSpike: p.kSigmaSpike,
    kTsDrop: p.kTsDrop,
    kAgePenalty: p.kAgePenalty,
    newSlProposed: p.newSlProposed,
    rNet: p.rNet,
    decision: gate.decision,
    reasonCodes: gate.reasonCodes,
    steps: planSteps(p, gate),
    closeQty: gate.decision === "EXECUTE" && isCloseAction(p.action) ? estimate.closeQty : null,
    price: gate.decision === "EXECUTE" ? estimate.price : null,
    timestamp: nowSec,
    reduceOnly: isCloseAction(p.action),
    ...(p.positionSide !== undefined ? { positionSide: p.positionSide } : {}),
  };
}
