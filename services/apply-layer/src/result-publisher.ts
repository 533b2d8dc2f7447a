import {
  type ApplyMode,
  type ApplyReason,
  type ApplyResult,
  clampDetail,
  type Decision,
  encodeApplyResult,
  type JsonValue,
  type OrderSide,
  type ReasonContext,
  renderContext,
} from "@quantum/contracts";
import type { ApplyMetrics } from "@quantum/metrics";
import { type Logger, sleep } from "@quantum/runtime";
import type { Redis } from "ioredis";
import { type PublishResultOutcome, publishResultOnce } from "./publish-once.js";

/** The order fields of a result (present when an order was sent and exists at the venue). */
export interface ResultOrder {
  readonly orderId: string;
  readonly clientOrderId: string;
  readonly side: OrderSide;
  readonly executedQty?: string;
  readonly avgPrice?: string;
}

export interface ResultSpec {
  readonly planId: string;
  readonly symbol: string;
  readonly decision: Decision;
  readonly reason: ApplyReason;
  /** The facts behind the reason; the result's `detail` is rendered from them (default: none). */
  readonly context?: ReasonContext;
  readonly executed: boolean;
  /** Default: decision is EXECUTE. */
  readonly wouldExecute?: boolean;
  readonly order?: ResultOrder;
  readonly permitWaitMs?: number;
  readonly stepsResults?: readonly JsonValue[];
}

/** dry_run: the plan would go on, but nothing is consumed or sent. */
export const DRY_RUN_CONTEXT: ReasonContext = { mode: "dry_run", consumed: false, sent: false };

/** The `detail` of a result (and of its execution record): its context rendered, clamped to the wire limit. */
export function detailOf(spec: Pick<ResultSpec, "context">): string {
  return clampDetail(renderContext(spec.context ?? {}));
}

/** Build the apply.result entry of a plan. */
export function buildResult(spec: ResultSpec, mode: ApplyMode, nowSec: number): ApplyResult {
  const o = spec.order;
  return {
    planId: spec.planId,
    symbol: spec.symbol,
    decision: spec.decision,
    executed: spec.executed,
    wouldExecute: spec.wouldExecute ?? spec.decision === "EXECUTE",
    reason: spec.reason,
    detail: detailOf(spec),
    stepsResults: spec.stepsResults ?? [],
    timestamp: nowSec,
    ...(o !== undefined
      ? {
          orderId: o.orderId,
          clientOrderId: o.clientOrderId,
          side: o.side,
          ...(o.executedQty !== undefined ? { executedQty: o.executedQty } : {}),
          ...(o.avgPrice !== undefined ? { avgPrice: o.avgPrice } : {}),
        }
      : {}),
    ...(spec.permitWaitMs !== undefined ? { permitWaitMs: Math.round(spec.permitWaitMs * 1000) / 1000 } : {}),
    mode,
  };
}

export interface ResultPublisherOptions {
  redis: Redis;
  mode: ApplyMode;
  dedupeTtlSec: number;
  execRecordTtlSec: number;
  streamMaxLen: number;
  metrics: ApplyMetrics;
  log: Logger;
  /** Stops publish retries (shutdown); the plan then stays open for the next start. */
  signal: AbortSignal;
}

/**
 * Publishes the one result of a plan (publishResultOnce), retrying while Redis is unavailable, and counts
 * `apply_plan_processed_total{decision}` once per published result.
 */
export class ResultPublisher {
  constructor(private readonly o: ResultPublisherOptions) {}

  get mode(): ApplyMode {
    return this.o.mode;
  }

  /**
   * "owned": the caller holds the plan's execution record (or the plan has none); "unclaimed": the plan ended
   * before a claim and the result is published only if nobody claimed it meanwhile.
   * Resolves null when shutdown interrupted the retries.
   */
  async publish(spec: ResultSpec, claim: "owned" | "unclaimed"): Promise<PublishResultOutcome | null> {
    const { redis, log } = this.o;
    const nowMs = Date.now();
    // An invalid result is a bug: it throws here, outside the retry loop.
    const result = encodeApplyResult(buildResult(spec, this.o.mode, nowMs / 1000));
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await publishResultOnce(redis, {
          planId: spec.planId,
          symbol: spec.symbol,
          result,
          claim,
          dedupeTtlSec: this.o.dedupeTtlSec,
          execRecordTtlSec: this.o.execRecordTtlSec,
          maxLen: this.o.streamMaxLen,
          nowMs,
        });
        if (out.outcome === "published") {
          this.o.metrics.planProcessed.inc({ decision: spec.decision });
          this.o.metrics.result.inc({ decision: spec.decision, reason: spec.reason });
          log.info(
            {
              planId: spec.planId,
              symbol: spec.symbol,
              decision: spec.decision,
              reason: spec.reason,
              detail: result.detail,
              executed: spec.executed,
            },
            "result published",
          );
        } else {
          log.info({ planId: spec.planId, outcome: out.outcome }, "result not published");
        }
        return out;
      } catch (err) {
        if (this.o.signal.aborted) return null;
        if (attempt === 1 || attempt % 20 === 0) {
          log.warn({ err, planId: spec.planId, attempt }, "result publish failed, retrying");
        }
        await sleep(Math.min(100 * 2 ** Math.min(attempt, 5), 2000));
        if (this.o.signal.aborted) return null;
      }
    }
  }
}
