import type {
  HedgeLeg,
  P33DenyReason,
  PermitPositionSide,
  PositionSnapshot,
  ReasonContext,
  Reasoned,
} from "@quantum/contracts";
import { CLOSE_FRACTIONS } from "@quantum/contracts";
import { formatToStep } from "@quantum/exchange";
import { Decimal } from "decimal.js";

/**
 * The P3.3 sanity checks as small pure functions. Each answers ALLOW or a deny with a reason code and a
 * structured context; `evaluatePlan` runs them in the documented order, first deny wins.
 */

export type Deny = { readonly allow: false } & Reasoned<P33DenyReason>;
export type CheckResult = { readonly allow: true } | Deny;

export const ALLOW: CheckResult = { allow: true };

function deny(reason: P33DenyReason, context: ReasonContext = {}): Deny {
  return { allow: false, reason, context };
}

/** Part of |exchange position| each action asks for (UPDATE_SL: the stop covers the whole position). */
export const ACTION_FACTORS: Readonly<Record<string, string>> = { ...CLOSE_FRACTIONS, UPDATE_SL: "1" };

/** Round to milliseconds for JSON contexts. */
function ms3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** Decimal of a decimal string, or null when it is not one. */
export function parseDecimal(raw: string | null | undefined): Decimal | null {
  if (raw === null || raw === undefined || raw.trim() === "") return null;
  try {
    const d = new Decimal(raw.trim());
    return d.isFinite() ? d : null;
  } catch {
    return null;
  }
}

/** invalid_plan: the action is one this layer permits. */
export function checkPlanAction(action: string): CheckResult {
  return Object.hasOwn(ACTION_FACTORS, action)
    ? ALLOW
    : deny("invalid_plan", { error: `action: not permitted by P3.3: ${action.slice(0, 64)}` });
}

export function checkAllowlist(symbol: string, allowlist: ReadonlySet<string>): CheckResult {
  return allowlist.has(symbol) ? ALLOW : deny("not_in_allowlist", { symbol });
}

/** no_exchange_snapshot: a snapshot (and the symbol's quantity rules) exist after the on-demand fetch. */
export function checkSnapshotPresent(
  snapshot: PositionSnapshot | null,
  stepSize: string | null,
): CheckResult {
  if (snapshot === null) return deny("no_exchange_snapshot", { missing: "snapshot" });
  if (stepSize === null) return deny("no_exchange_snapshot", { missing: "symbol_rules" });
  return ALLOW;
}

export function checkSnapshotFresh(
  snapshot: PositionSnapshot,
  nowSec: number,
  staleThresholdSec: number,
): CheckResult {
  const age = Math.max(0, nowSec - snapshot.tsEpoch);
  return age > staleThresholdSec ? deny("stale_exchange_state", { age_seconds: ms3(age) }) : ALLOW;
}

/** The position a plan closes: one-way mode's BOTH, or one hedge leg (signed amount). */
export interface SizedPosition {
  readonly positionSide: PermitPositionSide;
  readonly amt: Decimal;
}

/**
 * Which position a plan sizes. One-way mode: the net (BOTH). Hedge mode (the snapshot carries legs): the
 * leg the plan names; without a name the only open leg, and when both legs are open the plan is
 * ambiguous (closing "the position" could close either) and denied `ambiguous_hedge_position`.
 */
export function selectPosition(
  snapshot: PositionSnapshot,
  named: HedgeLeg | undefined,
): { allow: true; position: SizedPosition } | Deny {
  if (snapshot.longAmt === undefined && snapshot.shortAmt === undefined) {
    return { allow: true, position: { positionSide: "BOTH", amt: new Decimal(snapshot.positionAmt) } };
  }
  const long = parseDecimal(snapshot.longAmt) ?? new Decimal(0);
  const short = parseDecimal(snapshot.shortAmt) ?? new Decimal(0);
  const leg = (side: HedgeLeg) => ({
    allow: true as const,
    position: { positionSide: side, amt: side === "LONG" ? long : short },
  });
  if (named !== undefined) return leg(named);
  if (!long.isZero() && !short.isZero()) {
    return deny("ambiguous_hedge_position", { long_amt: long.toFixed(), short_amt: short.toFixed() });
  }
  return leg(short.isZero() ? "LONG" : "SHORT");
}

export function checkHasPosition(position: SizedPosition): CheckResult {
  if (!position.amt.isZero()) return ALLOW;
  return deny("no_position", {
    exchange_amt: position.amt.toFixed(),
    ...(position.positionSide !== "BOTH" ? { position_side: position.positionSide } : {}),
  });
}

/** Ledger and exchange on the same side (a flat ledger against an open position is a side mismatch). */
export function checkSideMatches(exchangeAmt: Decimal, ledgerAmt: Decimal): CheckResult {
  const sign = (d: Decimal) => (d.isZero() ? 0 : d.isNegative() ? -1 : 1);
  return sign(exchangeAmt) === sign(ledgerAmt)
    ? ALLOW
    : deny("reconcile_required_side_mismatch", {
        exchange_amt: exchangeAmt.toFixed(),
        ledger_amt: ledgerAmt.toFixed(),
      });
}

/** max(step, |exchange| × pct / 100). */
export function qtyTolerance(exchangeAmt: Decimal, stepSize: string, tolerancePct: number): Decimal {
  const pct = exchangeAmt
    .abs()
    .mul(new Decimal(String(tolerancePct)))
    .div(100);
  return Decimal.max(new Decimal(stepSize), pct);
}

export function checkQtyMatches(
  exchangeAmt: Decimal,
  ledgerAmt: Decimal,
  stepSize: string,
  tolerancePct: number,
): CheckResult {
  const diff = exchangeAmt.minus(ledgerAmt).abs();
  const tolerance = qtyTolerance(exchangeAmt, stepSize, tolerancePct);
  return diff.gt(tolerance)
    ? deny("reconcile_required_qty_mismatch", {
        exchange_amt: exchangeAmt.toFixed(),
        ledger_amt: ledgerAmt.toFixed(),
        diff: diff.toFixed(),
        tolerance: tolerance.toFixed(),
      })
    : ALLOW;
}

/**
 * Epoch ms of the last fill from the cooldown key (epoch ms; another writer's epoch seconds are accepted).
 * undefined = no key, null = unreadable.
 */
export function parseLastExecMs(raw: string | null): number | null | undefined {
  if (raw === null || raw.trim() === "") return undefined;
  const d = parseDecimal(raw);
  if (d === null || d.isNegative()) return null;
  const n = d.toNumber();
  return n < 1e11 ? n * 1000 : n;
}

/** cooldown_in_flight: the last fill of the symbol is at least cooldown_sec old. An unreadable key denies. */
export function checkCooldown(lastExecRaw: string | null, nowMs: number, cooldownSec: number): CheckResult {
  const last = parseLastExecMs(lastExecRaw);
  if (last === undefined) return ALLOW;
  if (last === null) {
    return deny("cooldown_in_flight", { seconds_since_exec: null, cooldown_sec: cooldownSec });
  }
  const since = (nowMs - last) / 1000;
  return since < cooldownSec
    ? deny("cooldown_in_flight", { seconds_since_exec: ms3(Math.max(0, since)), cooldown_sec: cooldownSec })
    : ALLOW;
}

export function checkReconcileHold(holdRaw: string | null): CheckResult {
  return holdRaw !== null && holdRaw !== ""
    ? deny("reconcile_hold_active", { hold: holdRaw.slice(0, 256) })
    : ALLOW;
}

export interface SafeQty {
  /** |exchange| × factor, unrounded. */
  readonly requested: Decimal;
  /** min(requested, |exchange|) floored to the step, printed with the step's decimals. */
  readonly safeQty: string;
}

/** safe = min(|exchange| × factor(action), |exchange|) floored to the symbol's step (decimal arithmetic). */
export function computeSafeQty(exchangeAmt: Decimal, action: string, stepSize: string): SafeQty {
  const factor = ACTION_FACTORS[action];
  if (factor === undefined) throw new RangeError(`no quantity factor for action ${action}`);
  const abs = exchangeAmt.abs();
  const requested = abs.mul(factor);
  return { requested, safeQty: formatToStep(Decimal.min(requested, abs), stepSize) };
}

export interface PlanEvaluationInput {
  readonly symbol: string;
  readonly action: string;
  /** The hedge leg the plan names, if any. */
  readonly positionSide?: HedgeLeg;
  readonly allowlist: ReadonlySet<string>;
  readonly snapshot: PositionSnapshot | null;
  /** The symbol's quantity step, null when the rules are unknown. */
  readonly stepSize: string | null;
  /** The ledger's last_known_amt as stored (null: no ledger could be read or initialised). */
  readonly ledgerAmtRaw: string | null;
  readonly cooldownRaw: string | null;
  readonly holdRaw: string | null;
  readonly nowMs: number;
  readonly staleThresholdSec: number;
  readonly cooldownSec: number;
  readonly tolerancePct: number;
}

export type Verdict =
  | Deny
  | {
      readonly allow: true;
      readonly safeQty: string;
      /** Signed amount of the sized position (the net in one-way mode, the leg in hedge mode). */
      readonly exchangeAmt: string;
      readonly ledgerAmt: string;
      readonly positionSide: PermitPositionSide;
    };

/**
 * Run every check in order; the first deny wins, else the allow with its safe quantity. The ledger holds
 * what this system believes the whole symbol is (every fill moves it by its signed quantity, whichever leg
 * it closed), so the side and quantity checks compare it with the snapshot's net amount; the safe
 * quantity comes from the sized position (the named hedge leg, or the net in one-way mode).
 */
export function evaluatePlan(i: PlanEvaluationInput): Verdict {
  const first = (...results: Array<() => CheckResult>): Deny | null => {
    for (const r of results) {
      const out = r();
      if (!out.allow) return out;
    }
    return null;
  };
  const early = first(
    () => checkPlanAction(i.action),
    () => checkAllowlist(i.symbol, i.allowlist),
    () => checkSnapshotPresent(i.snapshot, i.stepSize),
  );
  if (early !== null) return early;
  const snapshot = i.snapshot as PositionSnapshot;
  const step = i.stepSize as string;
  const exchangeAmt = new Decimal(snapshot.positionAmt);
  const ledgerAmt = parseDecimal(i.ledgerAmtRaw);
  let sized: SizedPosition = { positionSide: "BOTH", amt: exchangeAmt };
  const later = first(
    () => checkSnapshotFresh(snapshot, i.nowMs / 1000, i.staleThresholdSec),
    () => {
      const selected = selectPosition(snapshot, i.positionSide);
      if (!selected.allow) return selected;
      sized = selected.position;
      return ALLOW;
    },
    () => checkHasPosition(sized),
    () =>
      ledgerAmt === null
        ? deny("reconcile_required_qty_mismatch", {
            exchange_amt: exchangeAmt.toFixed(),
            ledger_amt: i.ledgerAmtRaw === null ? null : i.ledgerAmtRaw.slice(0, 64),
            diff: null,
            tolerance: qtyTolerance(exchangeAmt, step, i.tolerancePct).toFixed(),
          })
        : ALLOW,
    () => checkSideMatches(exchangeAmt, ledgerAmt as Decimal),
    () => checkQtyMatches(exchangeAmt, ledgerAmt as Decimal, step, i.tolerancePct),
    () => checkCooldown(i.cooldownRaw, i.nowMs, i.cooldownSec),
    () => checkReconcileHold(i.holdRaw),
  );
  if (later !== null) return later;
  return {
    allow: true,
    safeQty: computeSafeQty(sized.amt, i.action, step).safeQty,
    exchangeAmt: sized.positionSide === "BOTH" ? snapshot.positionAmt : sized.amt.toFixed(),
    ledgerAmt: (ledgerAmt as Decimal).toFixed(),
    positionSide: sized.positionSide,
  };
}
