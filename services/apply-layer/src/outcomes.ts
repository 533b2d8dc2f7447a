import {
  type ApplyReason,
  clampDetail,
  DECISIONS,
  type Decision,
  decodeExecRecord,
  type ExecRecord,
  type ExecState,
  type ExecutedStatus,
  isApplyReason,
  keys,
} from "@quantum/contracts";
import type { ApplyMetrics } from "@quantum/metrics";
import { transitionExec } from "@quantum/permits";
import type { Logger } from "@quantum/runtime";
import type { Redis } from "ioredis";
import { ApplyStateError } from "./apply-state-error.js";
import type { ApplyConfig, CrashPoint } from "./config.js";
import type { ResultOrder, ResultPublisher, ResultSpec } from "./results.js";

/** States after which nothing more happens at the venue for a plan. */
export const FINAL_STATES: ReadonlySet<ExecState> = new Set(["FILLED", "REJECTED", "DONE"]);

/** Extra execution-record fields this service writes next to the codec's ones (read back by recovery). */
export const RECORD_EXTRA = {
  action: "action",
  permitWaitMs: "permit_wait_ms",
  decision: "decision",
  reason: "reason",
  executed: "executed",
  stopPrice: "stop_price",
} as const;

export interface StoredRecord {
  readonly record: ExecRecord;
  readonly raw: Readonly<Record<string, string>>;
}

/** Read and decode an execution record; null when absent, throws on Redis errors. */
export async function readRecord(redis: Redis, planId: string): Promise<StoredRecord | null> {
  const raw = await redis.hgetall(keys.execRecord(planId));
  if (Object.keys(raw).length === 0) return null;
  const decoded = decodeExecRecord(raw);
  if (!decoded.ok)
    throw new ApplyStateError(
      "APPLY_RECORD_MALFORMED",
      `execution record ${planId} is malformed: ${decoded.error.message}`,
    );
  return { record: decoded.value, raw };
}

/** The result a final record stands for (recovery, or a consumer that found the plan already claimed). */
export function resultFromRecord(stored: StoredRecord): ResultSpec {
  const { record, raw } = stored;
  const waitMs = Number(raw[RECORD_EXTRA.permitWaitMs]);
  const permitWaitMs = Number.isFinite(waitMs) ? { permitWaitMs: waitMs } : {};
  const order: ResultOrder | undefined =
    record.orderId !== undefined && record.clientOrderId !== undefined && record.side !== undefined
      ? {
          orderId: record.orderId,
          clientOrderId: record.clientOrderId,
          side: record.side,
          ...(record.state === "FILLED" && record.executedQty !== undefined
            ? { executedQty: record.executedQty }
            : {}),
          ...(record.state === "FILLED" && record.avgPrice !== undefined
            ? { avgPrice: record.avgPrice }
            : {}),
        }
      : undefined;
  if (record.state === "FILLED") {
    return {
      planId: record.planId,
      symbol: record.symbol,
      decision: "EXECUTE",
      reason: "none",
      detail: record.detail ?? "",
      executed: true,
      ...(order !== undefined ? { order } : {}),
      ...permitWaitMs,
    };
  }
  const rawDecision = raw[RECORD_EXTRA.decision] ?? "";
  const rawReason = raw[RECORD_EXTRA.reason] ?? "";
  const decision: Decision = (DECISIONS as readonly string[]).includes(rawDecision)
    ? (rawDecision as Decision)
    : "ERROR";
  const reason: ApplyReason = isApplyReason(rawReason) ? rawReason : "internal_error";
  const executed = raw[RECORD_EXTRA.executed] === "1";
  return {
    planId: record.planId,
    symbol: record.symbol,
    decision,
    reason,
    detail: record.detail ?? "",
    executed,
    ...(order !== undefined && executed ? { order } : {}),
    ...permitWaitMs,
  };
}

export interface FinisherOptions {
  redis: Redis;
  cfg: ApplyConfig;
  metrics: ApplyMetrics;
  results: ResultPublisher;
  log: Logger;
  crash: (point: CrashPoint) => void;
}

/**
 * The last steps of a claimed plan: move its execution record to a final state (compare-and-set), write
 * the cooldown / protective stop, then publish its one result. Shared by the executor and recovery.
 */
export class Finisher {
  constructor(private readonly o: FinisherOptions) {}

  /** A claimed plan ends without an order (content checks, kill switch re-check, interrupted before submit). */
  async endClaimed(
    spec: ResultSpec,
    opts: { status?: ExecutedStatus; from?: ExecState | readonly ExecState[] } = {},
  ): Promise<void> {
    await this.endWithout(spec, opts.from ?? "CLAIMED", "DONE", opts.status);
  }

  /** An order attempt ended without execution (rejected, rate limited, resolved not filled, ...). */
  async endRejected(spec: ResultSpec, status: ExecutedStatus): Promise<void> {
    await this.endWithout(spec, ["SUBMITTING", "UNKNOWN"], "REJECTED", status);
  }

  private async endWithout(
    spec: ResultSpec,
    from: ExecState | readonly ExecState[],
    next: ExecState,
    status: ExecutedStatus | undefined,
  ): Promise<void> {
    const moved = await transitionExec(this.o.redis, {
      planId: spec.planId,
      expected: from,
      next,
      fields: {
        detail: clampDetail(spec.detail ?? ""),
        [RECORD_EXTRA.decision]: spec.decision,
        [RECORD_EXTRA.reason]: spec.reason,
        [RECORD_EXTRA.executed]: "0",
      },
    });
    if (moved.outcome !== "ok") {
      this.o.log.error({ planId: spec.planId, moved }, "execution record not in the expected state");
      return;
    }
    if (status !== undefined) this.o.metrics.executed.inc({ status });
    await this.o.results.publish(spec, "owned");
  }

  /** The order exists at the venue: FILLED (close) or DONE (protective stop placed), then the result. */
  async endFilled(
    spec: Omit<ResultSpec, "decision" | "reason" | "executed">,
    order: ResultOrder,
    kind: "close" | "stop",
    extra: { stopPrice?: string } = {},
  ): Promise<void> {
    const { redis, log } = this.o;
    const fields: Record<string, string> = {
      order_id: order.orderId,
      detail: clampDetail(spec.detail ?? ""),
      [RECORD_EXTRA.decision]: "EXECUTE",
      [RECORD_EXTRA.reason]: "none",
      [RECORD_EXTRA.executed]: "1",
    };
    if (kind === "close") {
      fields.executed_qty = order.executedQty ?? "0";
      fields.avg_price = order.avgPrice ?? "0";
    }
    const moved = await transitionExec(redis, {
      planId: spec.planId,
      expected: ["SUBMITTING", "UNKNOWN"],
      next: kind === "close" ? "FILLED" : "DONE",
      fields,
    });
    if (moved.outcome !== "ok") {
      log.error({ planId: spec.planId, moved }, "execution record not in the expected state");
      return;
    }
    if (kind === "close") {
      await redis.set(keys.cooldownLastExecTs(spec.symbol), String(Date.now()));
    } else {
      await redis.hset(keys.protectiveStop(spec.symbol), {
        client_order_id: order.clientOrderId,
        order_id: order.orderId,
        plan_id: spec.planId,
        side: order.side,
        stop_price: extra.stopPrice ?? "",
        updated_at: (Date.now() / 1000).toFixed(3),
      });
    }
    this.o.metrics.executed.inc({ status: this.o.cfg.testnetBypass ? "testnet_bypass" : "success" });
    this.o.crash("before_result");
    const resultOrder: ResultOrder =
      kind === "close"
        ? order
        : { orderId: order.orderId, clientOrderId: order.clientOrderId, side: order.side };
    await this.o.results.publish(
      { ...spec, decision: "EXECUTE", reason: "none", executed: true, order: resultOrder },
      "owned",
    );
  }

  /**
   * The plan was claimed already (another consumer, or our own earlier run): publish its result from the
   * record when the record is final and its result is missing; otherwise its owner (or recovery) finishes it.
   */
  async publishExisting(planId: string): Promise<void> {
    const stored = await readRecord(this.o.redis, planId);
    if (stored === null) {
      this.o.log.warn({ planId }, "plan reported claimed but has no execution record");
      return;
    }
    const { record } = stored;
    if (FINAL_STATES.has(record.state) && !record.resultPublished) {
      await this.o.results.publish(resultFromRecord(stored), "owned");
      return;
    }
    this.o.log.info(
      { planId, state: record.state },
      "plan claimed elsewhere; its owner or recovery finishes it",
    );
  }
}
