import { type ApplyPlan, DECISIONS, decodeApplyPlan, PLAN_ID_RE, SYMBOL_RE } from "@quantum/contracts";

/**
 * An apply.plan entry as P3.3 sees it: a valid plan, or a malformed one that is dead-lettered. A malformed
 * entry that still names a plausible plan_id and is (or may be) an EXECUTE plan gets a deny `invalid_plan`
 * permit, so the Apply Layer stops waiting at once instead of timing out.
 */
export type PlanEntry =
  | { readonly kind: "plan"; readonly plan: ApplyPlan }
  | {
      readonly kind: "malformed";
      /** `<field>: <problem>`. */
      readonly error: string;
      readonly fields: Readonly<Record<string, string>>;
      /** The plan_id to deny, or null when no permit is written. */
      readonly denyPlanId: string | null;
      /** Symbol for the deny permit (`UNKNOWN` when the entry has no readable one). */
      readonly symbol: string;
    };

/** Symbol written into a deny permit of an entry without a readable symbol. */
export const UNKNOWN_SYMBOL = "UNKNOWN";

const KNOWN_DECISIONS: readonly string[] = DECISIONS;

/** Decode one entry; never fails (malformed entries are a kind, handled by the permit path). */
export function decodePlanEntry(fields: Record<string, string>): { ok: true; value: PlanEntry } {
  const decoded = decodeApplyPlan(fields);
  if (decoded.ok) return { ok: true, value: { kind: "plan", plan: decoded.value } };
  const rawId = fields.plan_id;
  const planId = typeof rawId === "string" && PLAN_ID_RE.test(rawId) ? rawId : null;
  const decision = fields.decision;
  // EXECUTE, missing or unreadable decisions may have an Apply Layer waiting; SKIP/BLOCKED/ERROR do not.
  const mayExecute = decision === undefined || decision === "EXECUTE" || !KNOWN_DECISIONS.includes(decision);
  const rawSymbol = fields.symbol;
  const symbol = typeof rawSymbol === "string" && SYMBOL_RE.test(rawSymbol) ? rawSymbol : UNKNOWN_SYMBOL;
  return {
    ok: true,
    value: {
      kind: "malformed",
      error: decoded.error.message,
      fields,
      denyPlanId: planId !== null && mayExecute ? planId : null,
      symbol,
    },
  };
}
