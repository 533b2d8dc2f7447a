import { type ExecState, type ExecutedStatus, keys } from "@quantum/contracts";
import type { ApplyMetrics } from "@quantum/metrics";
import { transitionExec } from "@quantum/permits";
import type { Logger } from "@quantum/runtime";
import type { Redis } from "ioredis";
import type { ApplyConfig, CrashPoint } from "../config.js";
import type { ResultOrder, ResultPublisher, ResultSpec } from "../result-publisher.js";
import {
  type ChunkFill,
  contextFields,
  FINAL_STATES,
  RECORD_EXTRA,
  readRecord,
  resultFromRecord,
  sumChunks,
} from "./execution-record.js";

export interface FinisherOptions {
  redis: Redis;
  cfg: ApplyConfig;
  metrics: ApplyMetrics;
  results: ResultPublisher;
  log: Logger;
  crash: (point: CrashPoint) => void;
}

/** This system's protective stop of a symbol as kept in keys.protectiveStop. */
export interface ProtectiveStopEntry {
  readonly clientOrderId: string;
  readonly orderId: string;
  readonly planId: string;
  readonly side: string;
  readonly stopPrice: string;
  readonly positionSide: string;
}

/**
 * The last steps of a plan: move its execution record to a final state (compare-and-set), write the cooldown
 * key or the protective stop, then publish its one result (which also takes the plan off the open-execution
 * index). Used by the executor and by recovery.
 */
export class Finisher {
  constructor(private readonly o: FinisherOptions) {}

  /** The plan ended before any claim (entry gate, permit wait): publish only if nobody claimed it meanwhile. */
  async endUnclaimed(spec: ResultSpec): Promise<void> {
    const out = await this.o.results.publish(spec, "unclaimed");
    if (out?.outcome === "claimed") await this.publishExisting(spec.planId);
  }

  /** A claimed plan ends without an order (content checks, gate refusal, interrupted before submit). */
  async endClaimed(
    spec: ResultSpec,
    opts: { status?: ExecutedStatus; from?: ExecState | readonly ExecState[] } = {},
  ): Promise<void> {
    await this.endWithout(spec, opts.from ?? "CLAIMED", "DONE", opts.status);
  }

  /**
   * An order attempt ended without execution (rejected, rate limited, resolved not filled, lookup before the
   * gate failed: the record may still be CLAIMED then).
   */
  async endRejected(spec: ResultSpec, status: ExecutedStatus): Promise<void> {
    await this.endWithout(spec, ["CLAIMED", "SUBMITTING", "UNKNOWN"], "REJECTED", status);
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
        ...contextFields(spec),
        [RECORD_EXTRA.decision]: spec.decision,
        [RECORD_EXTRA.reason]: spec.reason,
        [RECORD_EXTRA.executed]: spec.executed ? "1" : "0",
      },
    });
    if (moved.outcome !== "ok") {
      this.o.log.error({ planId: spec.planId, moved }, "execution record not in the expected state");
      return;
    }
    if (status !== undefined) this.o.metrics.executed.inc({ status });
    await this.o.results.publish(spec, "owned");
  }

  /**
   * A close filled (every chunk, or the chunks done before a stop): FILLED, the cooldown key, the result with
   * the chunks summed. `ended` carries the decision when not every chunk went out.
   */
  async endFilled(
    spec: Omit<ResultSpec, "decision" | "reason" | "executed" | "order">,
    fills: readonly ChunkFill[],
    side: ResultOrder["side"],
  ): Promise<void> {
    const { redis, log } = this.o;
    const order = sumChunks(fills, side);
    if (order === null) throw new Error(`endFilled without fills for ${spec.planId}`);
    const last = fills[fills.length - 1] as ChunkFill;
    // The cooldown key marks the symbol's last fill, true whatever the record says: it goes out in the same
    // round trip as the record's move to FILLED.
    const [moved] = await Promise.all([
      transitionExec(redis, {
        planId: spec.planId,
        // CLAIMED: an order already at the venue for this client id was adopted before the gate.
        expected: ["CLAIMED", "SUBMITTING", "UNKNOWN"],
        next: "FILLED",
        fields: {
          order_id: last.orderId,
          executed_qty: order.executedQty ?? "0",
          avg_price: order.avgPrice ?? "0",
          ...contextFields(spec),
          [RECORD_EXTRA.chunksDone]: JSON.stringify(fills),
          [RECORD_EXTRA.decision]: "EXECUTE",
          [RECORD_EXTRA.reason]: "none",
          [RECORD_EXTRA.executed]: "1",
        },
      }),
      redis.set(keys.cooldownLastExecTs(spec.symbol), String(Date.now())),
    ]);
    if (moved.outcome !== "ok") {
      log.error({ planId: spec.planId, moved }, "execution record not in the expected state");
      return;
    }
    this.o.metrics.executed.inc({ status: this.o.cfg.testnetBypass ? "testnet_bypass" : "success" });
    this.o.crash("before_result");
    await this.o.results.publish(
      { ...spec, decision: "EXECUTE", reason: "none", executed: true, order },
      "owned",
    );
  }

  /** The new protective stop is working: DONE, the symbol's stop entry names it, the missing-stop gauge is 0. */
  async endStopPlaced(
    spec: Omit<ResultSpec, "decision" | "reason" | "executed" | "order">,
    order: ResultOrder,
    stop: Omit<ProtectiveStopEntry, "clientOrderId" | "orderId" | "planId" | "side">,
  ): Promise<void> {
    const moved = await transitionExec(this.o.redis, {
      planId: spec.planId,
      // CLAIMED: an order already at the venue for this client id was adopted before the gate.
      expected: ["CLAIMED", "SUBMITTING", "UNKNOWN"],
      next: "DONE",
      fields: {
        order_id: order.orderId,
        ...contextFields(spec),
        [RECORD_EXTRA.decision]: "EXECUTE",
        [RECORD_EXTRA.reason]: "none",
        [RECORD_EXTRA.executed]: "1",
      },
    });
    if (moved.outcome !== "ok") {
      this.o.log.error({ planId: spec.planId, moved }, "execution record not in the expected state");
      return;
    }
    await this.writeProtectiveStop(spec.symbol, {
      clientOrderId: order.clientOrderId,
      orderId: order.orderId,
      planId: spec.planId,
      side: order.side,
      ...stop,
    });
    this.o.metrics.executed.inc({ status: this.o.cfg.testnetBypass ? "testnet_bypass" : "success" });
    this.o.crash("before_result");
    const resultOrder = { orderId: order.orderId, clientOrderId: order.clientOrderId, side: order.side };
    await this.o.results.publish(
      { ...spec, decision: "EXECUTE", reason: "none", executed: true, order: resultOrder },
      "owned",
    );
  }

  /** keys.protectiveStop names a working stop (null: none works) and the gauge follows. */
  async writeProtectiveStop(
    symbol: string,
    entry: ProtectiveStopEntry | null,
    missing = false,
  ): Promise<void> {
    const key = keys.protectiveStop(symbol);
    if (entry === null) await this.o.redis.del(key);
    else {
      await this.o.redis.hset(key, {
        client_order_id: entry.clientOrderId,
        order_id: entry.orderId,
        plan_id: entry.planId,
        side: entry.side,
        stop_price: entry.stopPrice,
        position_side: entry.positionSide,
        updated_at: (Date.now() / 1000).toFixed(3),
      });
    }
    this.o.metrics.protectiveStopMissing.set({ symbol }, missing ? 1 : 0);
  }

  /**
   * The plan was claimed already (another consumer, or our own earlier run): publish its result from the
   * record when the record is final and its result is missing; otherwise its holder (or recovery) finishes it.
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
      "plan claimed elsewhere; its holder or recovery finishes it",
    );
  }
}
