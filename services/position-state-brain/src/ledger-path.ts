import { type ApplyResult, encodePositionLedgerPatch, keys } from "@quantum/contracts";
import { clientOrderIdFor } from "@quantum/exchange";
import type { P33Metrics } from "@quantum/metrics";
import type { Logger, StreamItem } from "@quantum/runtime";
import type { Decimal } from "decimal.js";
import type { Redis } from "ioredis";
import { parseDecimal } from "./checks.js";
import { applyLedgerResult } from "./scripts.js";

export interface LedgerPathOptions {
  redis: Redis;
  allowlist: readonly string[];
  metrics: P33Metrics;
  logger: Logger;
}

/** Who wrote a ledger updated from an executed result. */
export const LEDGER_RESULT_SOURCE = "p33";

const MAX_CAS_ATTEMPTS = 5;

type Outcome = "applied" | "already_applied" | "skipped" | "retry";

/**
 * The ledger path: group p33_ledger on apply.result. Each executed result (side, executed_qty)
 * moves quantum:position:ledger:<SYMBOL> once: BUY adds, SELL subtracts, in decimal arithmetic, written by a
 * compare-and-set script that remembers the applied result ids (redelivery and out-of-order safe).
 */
export class LedgerPath {
  private readonly o: LedgerPathOptions;
  private readonly allow: ReadonlySet<string>;
  private readonly log: Logger;

  constructor(opts: LedgerPathOptions) {
    this.o = opts;
    this.allow = new Set(opts.allowlist);
    this.log = opts.logger.child({ component: "ledger" });
  }

  /** StreamConsumer handler: results in stream order; a result that cannot be applied yet stays pending. */
  readonly handleBatch = async (items: StreamItem<ApplyResult>[]): Promise<string[]> => {
    const ack: string[] = [];
    for (const item of items) {
      const outcome = await this.apply(item.id, item.value);
      if (outcome !== "retry") ack.push(item.id);
    }
    return ack;
  };

  private async apply(id: string, r: ApplyResult): Promise<Outcome> {
    if (!r.executed || r.side === undefined || r.executedQty === undefined) return "skipped";
    // An UPDATE_SL result placed this system's protective stop: no fill, the position is unchanged.
    if (r.clientOrderId !== undefined && r.clientOrderId === clientOrderIdFor(r.planId, "stop"))
      return "skipped";
    const qty = parseDecimal(r.executedQty);
    if (qty === null || qty.lte(0)) return "skipped";
    const delta = r.side === "BUY" ? qty : qty.neg();
    const { redis } = this.o;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const rows =
        (await redis
          .pipeline()
          .hget(keys.positionLedger(r.symbol), "last_known_amt")
          .hmget(keys.positionSnapshot(r.symbol), "position_amt", "ts_epoch")
          .exec()) ?? [];
      for (const [err] of rows) if (err !== null) throw err;
      const ledgerRaw = (rows[0]?.[1] ?? null) as string | null;
      const [snapAmtRaw, snapTsRaw] = (rows[1]?.[1] ?? [null, null]) as (string | null)[];
      const next = this.nextAmount(id, r, delta, ledgerRaw, snapAmtRaw ?? null, snapTsRaw ?? null);
      if (next === "retry" || next === "skipped") return next;
      const fields = {
        ...encodePositionLedgerPatch({
          lastKnownAmt: next.toFixed(),
          ...(r.orderId !== undefined ? { lastOrderId: r.orderId } : {}),
          lastResultPlanId: r.planId,
          lastExecutedQty: qty.toFixed(),
          lastSide: r.side,
          updatedAt: Date.now() / 1000,
          source: LEDGER_RESULT_SOURCE,
        }),
        last_result_id: id,
      };
      const outcome = await applyLedgerResult(redis, {
        ledgerKey: keys.positionLedger(r.symbol),
        appliedKey: keys.p33LedgerApplied(r.symbol),
        resultId: id,
        expectedAmt: ledgerRaw,
        fields,
      });
      if (outcome === "applied") {
        this.o.metrics.ledgerPositionAmt.set({ symbol: r.symbol }, next.toNumber());
        this.log.info(
          { id, planId: r.planId, symbol: r.symbol, side: r.side, qty: qty.toFixed(), amt: next.toFixed() },
          "ledger updated from result",
        );
        return "applied";
      }
      if (outcome === "already_applied") {
        this.log.info({ id, planId: r.planId, symbol: r.symbol }, "result already applied to ledger");
        return "already_applied";
      }
    }
    this.log.warn({ id, symbol: r.symbol }, "ledger kept changing, result will be retried");
    return "retry";
  }

  /** The ledger amount after this result, from the ledger (or, when missing, from the snapshot). */
  private nextAmount(
    id: string,
    r: ApplyResult,
    delta: Decimal,
    ledgerRaw: string | null,
    snapAmtRaw: string | null,
    snapTsRaw: string | null,
  ): Decimal | "retry" | "skipped" {
    if (ledgerRaw !== null) {
      const base = parseDecimal(ledgerRaw);
      if (base !== null) return base.plus(delta);
      this.log.error({ id, symbol: r.symbol, ledger: ledgerRaw.slice(0, 64) }, "ledger amount unreadable");
      return "retry";
    }
    const snapAmt = parseDecimal(snapAmtRaw);
    const snapTs = Number(snapTsRaw);
    if (snapAmt === null || snapTsRaw === null || !Number.isFinite(snapTs)) {
      if (!this.allow.has(r.symbol)) return "skipped"; // not tracked by P3.3
      this.log.warn({ id, symbol: r.symbol }, "no ledger and no snapshot yet, result will be retried");
      return "retry";
    }
    // A snapshot taken after the fill already contains it; an older one does not.
    return snapTs >= r.timestamp ? snapAmt : snapAmt.plus(delta);
  }
}
