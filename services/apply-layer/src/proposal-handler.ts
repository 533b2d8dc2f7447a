import {
  type ApplyPlan,
  computePlanId,
  encodeApplyPlan,
  encodeApplyResult,
  type HarvestProposal,
  keys,
} from "@quantum/contracts";
import type { ApplyMetrics } from "@quantum/metrics";
import { readKillSwitch, readTradingState } from "@quantum/permits";
import type { Logger } from "@quantum/runtime";
import type { Redis } from "ioredis";
import type { ApplyConfig } from "./config.js";
import { FINAL_STATES } from "./execution/execution-record.js";
import { buildPlan, decide, type GateOutcome } from "./plan-gates.js";
import { estimateFromSnapshot } from "./positions.js";
import { publishPlanOnce } from "./publish-once.js";
import { buildResult, DRY_RUN_CONTEXT, type ResultSpec } from "./result-publisher.js";

export interface ProposalHandlerOptions {
  redis: Redis;
  cfg: ApplyConfig;
  metrics: ApplyMetrics;
  log: Logger;
  /** Hands a published EXECUTE plan to the executor (not called in dry_run). */
  execute: (plan: ApplyPlan) => void;
}

/** What handling one proposal did. */
export type ProposalOutcome =
  | { kind: "dedupe"; planId: string }
  | { kind: "published"; planId: string; decision: GateOutcome["decision"]; withResult: boolean };

/** The JSON stored in keys.applyOpenPlans for an EXECUTE plan until its result is published. */
export interface OpenPlanEntry {
  readonly plan: Record<string, string>;
  readonly published_at_ms: number;
}

/**
 * One proposal (hash poll or stream entry) → plan_id → dedupe → gates → plan published once. Non-EXECUTE
 * decisions (and every dry_run plan) publish their result together with the plan; EXECUTE plans are
 * registered as open and handed to the executor. A plan_id seen again is a dedupe hit, nothing is published.
 */
export class ProposalHandler {
  private readonly labelSymbols: ReadonlySet<string>;

  constructor(private readonly o: ProposalHandlerOptions) {
    this.labelSymbols = new Set([...o.cfg.allowlist, ...o.cfg.symbols]);
  }

  async handle(p: HarvestProposal): Promise<ProposalOutcome> {
    const { redis, cfg, metrics, log } = this.o;
    const planId = computePlanId(p);
    // A proposal that can execute reads its estimate in the same round trip as the dedupe checks.
    const estimateRead =
      decide(p, cfg, { executed: false }).decision === "EXECUTE"
        ? estimateFromSnapshot(redis, p.symbol, p.action)
        : null;
    estimateRead?.catch(() => undefined); // awaited below when used; unused after a dedupe hit
    const [planSeen, resultSeen, record] = await Promise.all([
      redis.exists(keys.planPublished(planId)),
      redis.exists(keys.resultPublished(planId)),
      redis.hmget(keys.execRecord(planId), "state", "result_published"),
    ]);
    const [state, resultPublished] = record;
    if (planSeen === 1 || resultSeen === 1) return this.dedupe(planId);
    const executed = state !== null;
    // A claimed plan whose result is not out yet belongs to its owner or to recovery, not to planning.
    if (executed && !(FINAL_STATES.has(state as never) && resultPublished === "1"))
      return this.dedupe(planId);

    const gate = decide(p, cfg, { executed });
    const estimate =
      gate.decision === "EXECUTE"
        ? await (estimateRead ?? estimateFromSnapshot(redis, p.symbol, p.action))
        : { closeQty: null, price: null };
    const nowMs = Date.now();
    const plan = buildPlan(p, planId, gate, estimate, nowMs / 1000);
    const planFields = encodeApplyPlan(plan);
    const base = { planId, symbol: p.symbol };

    let result: ResultSpec | null = null;
    if (gate.decision !== "EXECUTE") {
      // duplicate_plan: the plan_id already has its one result (from its execution); the plan alone shows it.
      if (gate.reason !== "duplicate_plan") {
        result = {
          ...base,
          decision: gate.decision,
          reason: gate.reason,
          context: gate.context,
          executed: false,
        };
      }
    } else if (cfg.mode === "dry_run") {
      result = await this.dryRunResult(base);
    }
    const published = await publishPlanOnce(redis, {
      planId,
      plan: planFields,
      ...(result !== null ? { result: encodeApplyResult(buildResult(result, cfg.mode, nowMs / 1000)) } : {}),
      ...(gate.decision === "EXECUTE" && result === null
        ? {
            openPlanJson: JSON.stringify({
              plan: planFields,
              published_at_ms: nowMs,
            } satisfies OpenPlanEntry),
          }
        : {}),
      dedupeTtlSec: cfg.dedupeTtlSec,
      maxLen: cfg.streamMaxLen,
    });
    if (published.outcome === "duplicate") return this.dedupe(planId);

    const symbolLabel = this.labelSymbols.has(p.symbol) ? p.symbol : "other";
    metrics.plan.inc({ symbol: symbolLabel, decision: plan.decision });
    const withResult = published.resultEntryId !== null;
    if (withResult && result !== null) metrics.planProcessed.inc({ decision: result.decision });
    log.info(
      {
        planId,
        symbol: p.symbol,
        action: p.action,
        decision: plan.decision,
        reasonCodes: plan.reasonCodes,
        withResult,
      },
      "plan published",
    );
    if (gate.decision === "EXECUTE" && result === null) this.o.execute(plan);
    return { kind: "published", planId, decision: plan.decision, withResult };
  }

  private dedupe(planId: string): ProposalOutcome {
    this.o.metrics.dedupeHits.inc();
    return { kind: "dedupe", planId };
  }

  /** dry_run: nothing is consumed or sent; the result says whether the plan would execute now. */
  private async dryRunResult(base: { planId: string; symbol: string }): Promise<ResultSpec> {
    const [ks, ts] = await Promise.all([
      readKillSwitch(this.o.redis, "dry_run"),
      readTradingState(this.o.redis),
    ]);
    if (ks.halted || ts.halted) {
      return {
        ...base,
        decision: "BLOCKED",
        reason: ks.halted ? "kill_switch_active" : "trading_state_halted",
        context: { mode: "dry_run" },
        executed: false,
        wouldExecute: false,
      };
    }
    return {
      ...base,
      decision: "EXECUTE",
      reason: "none",
      context: DRY_RUN_CONTEXT,
      executed: false,
      wouldExecute: true,
    };
  }
}
