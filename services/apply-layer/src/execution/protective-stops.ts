import { type ExecState, keys, type OrderSide, type ReasonContext, renderContext } from "@quantum/contracts";
import { clientOrderIdFor, type Exchange, type OrderRequest, type PositionSide } from "@quantum/exchange";
import { readKillSwitch, readTradingState } from "@quantum/permits";
import type { Logger } from "@quantum/runtime";
import { Decimal } from "decimal.js";
import type { Redis } from "ioredis";
import type { ApplyConfig, CrashPoint } from "../config.js";
import type { ResultSpec } from "../result-publisher.js";
import { markUnknown, noteOnClaimed, RECORD_EXTRA, type StoredRecord } from "./execution-record.js";
import type { Finisher, ProtectiveStopEntry } from "./finisher.js";
import { type OrderEnd, type OrderSender, RECOVERY_RESOLVE_DELAYS_MS } from "./order-sender.js";
import { type Stop, stopWith } from "./stop.js";
import type { PlanRun, SubmitGate } from "./submit-gate.js";

export interface ProtectiveStopsOptions {
  redis: Redis;
  exchange: Exchange;
  sender: OrderSender;
  gate: SubmitGate;
  finisher: Finisher;
  cfg: ApplyConfig;
  log: Logger;
  crash: (point: CrashPoint) => void;
}

/**
 * UPDATE_SL: replaces this system's protective STOP_MARKET (closePosition) of a symbol without ever leaving a
 * protected position unprotected. The new trigger is checked against the mark price first (the old stop stays
 * untouched when it would trigger at once). The venue allows one closePosition stop per direction, so the old
 * stop is cancelled right before the new one is placed; when the venue refuses the new one (or the request is
 * stopped after the cancel), the old stop is placed again at its old trigger. If that fails too, the symbol's
 * `apply_protective_stop_missing` gauge is 1 and keys.protectiveStop names no order. Placing the old stop again
 * restores protection this system removed, so it does not wait for the kill switch.
 */
export class ProtectiveStops {
  constructor(private readonly o: ProtectiveStopsOptions) {}

  /** Run a claimed UPDATE_SL plan to its result. */
  async replace(run: PlanRun, req: OrderRequest): Promise<void> {
    const { finisher, redis } = this.o;
    const spec = { planId: run.planId, symbol: run.symbol, permitWaitMs: run.waitMs };
    const endClaimed = (stop: Stop) =>
      finisher.endClaimed(
        { ...spec, ...stop, executed: false, wouldExecute: false },
        { ...(stop.status !== undefined ? { status: stop.status } : {}), from: ["CLAIMED", "SUBMITTING"] },
      );
    const stopPrice = req.stopPrice ?? "";
    const mark = await this.markPrice(run.symbol, req.positionSide);
    if (mark === null) {
      return endClaimed(
        stopWith(
          "ERROR",
          "internal_error",
          { mark_price: "unavailable", working_stop: "untouched" },
          "error",
        ),
      );
    }
    if (wouldTrigger(req.side, stopPrice, mark)) {
      return endClaimed(
        stopWith("BLOCKED", "stop_would_trigger", {
          side: req.side,
          stop_price: stopPrice,
          mark_price: mark,
          working_stop: "untouched",
        }),
      );
    }
    const prev = await this.readEntry(run.symbol);
    const replacing = prev !== null && prev.clientOrderId !== req.clientOrderId ? prev : null;
    if (replacing !== null) await noteOnClaimed(redis, run.planId, prevFields(replacing));
    let cancelled = false;
    const end = await this.o.sender.place(req, {
      beforeGate: async () => {
        if (replacing === null) return null;
        const halted = await this.haltedBeforeCancel();
        if (halted !== null) return halted;
        const why = await this.cancel(run.symbol, replacing.clientOrderId);
        if (why !== null) {
          return stopWith(
            "ERROR",
            "exchange_rejected",
            { cancel_failed: replacing.clientOrderId, error: why, working_stop: "in_place" },
            "rejected",
          );
        }
        cancelled = true;
        await finisher.writeProtectiveStop(run.symbol, null);
        return null;
      },
      gate: async (attempt) => {
        const verdict = await this.o.gate.pass(run, attempt === 0 ? ["CLAIMED"] : ["SUBMITTING"], {
          client_order_id: req.clientOrderId,
          side: req.side,
          [RECORD_EXTRA.stopPrice]: stopPrice,
        });
        if (verdict.kind === "go") this.o.crash("after_submitting");
        return verdict;
      },
      onUnknown: (detail) => markUnknown(redis, run.planId, detail),
    });
    const restoreAfterCancel = async (): Promise<{ restored: boolean; context: ReasonContext }> => {
      if (!cancelled || replacing === null) return { restored: false, context: {} };
      const restored = await this.restore(run.planId, run.symbol, replacing);
      return { restored: restored.ok, context: restoreContext(replacing, restored) };
    };
    switch (end.kind) {
      case "filled":
        return finisher.endStopPlaced(
          {
            ...spec,
            context: { stop_price: stopPrice, placed: true },
            stepsResults: [{ step: "UPDATE_SL", status: end.status, order_id: end.order.orderId }],
          },
          end.order,
          { stopPrice, positionSide: req.positionSide ?? "" },
        );
      case "stopped": {
        const r = await restoreAfterCancel();
        return endClaimed({ ...end.stop, context: { ...end.stop.context, ...r.context } });
      }
      case "notFilled": {
        const r = await restoreAfterCancel();
        const restored = r.restored;
        return finisher.endRejected(
          {
            ...spec,
            decision: "ERROR",
            reason: restored ? "protective_stop_restored" : end.reason,
            context: { replacement: "refused", ...end.context, ...r.context },
            executed: false,
            wouldExecute: false,
          },
          end.status,
        );
      }
      case "abandoned":
        this.o.log.error(
          { planId: run.planId, why: end.why },
          "UPDATE_SL abandoned before the request; nothing sent",
        );
        return;
      case "unresolved":
        this.o.log.error(
          { planId: run.planId, detail: end.detail },
          "stop outcome still unknown; recovery resolves it",
        );
        return;
    }
  }

  /**
   * Recovery of an UPDATE_SL record whose holder is gone: the new stop is looked up by client id; when it is
   * not at the venue, the previous stop is checked and placed again if it no longer works.
   */
  async recover(
    stored: StoredRecord,
    spec: Pick<ResultSpec, "planId" | "symbol" | "permitWaitMs">,
  ): Promise<void> {
    const { record, raw } = stored;
    const { finisher } = this.o;
    const from: ExecState[] = ["CLAIMED", "SUBMITTING", "UNKNOWN"];
    let found: OrderEnd | null = null;
    if (record.state !== "CLAIMED" && record.clientOrderId !== undefined && record.side !== undefined) {
      found = await this.o.sender.resolve(
        record.symbol,
        record.clientOrderId,
        record.side,
        true,
        RECOVERY_RESOLVE_DELAYS_MS,
      );
      if (found.kind === "unresolved") {
        this.o.log.warn(
          { planId: record.planId, detail: found.detail },
          "stop still unknown; retried by the next sweep",
        );
        return;
      }
      if (found.kind === "filled") {
        const stopPrice = raw[RECORD_EXTRA.stopPrice] ?? "";
        return finisher.endStopPlaced(
          {
            ...spec,
            context: {
              stop_price: stopPrice,
              placed: true,
              resolved_by: "client_order_id",
              after: "restart",
            },
          },
          found.order,
          { stopPrice, positionSide: "" },
        );
      }
    }
    const prev = prevFromRecord(raw);
    let previous: ReasonContext = { previous_stop: "none" };
    let restored = false;
    if (prev !== null) {
      const q = await this.o.exchange.getOrder(record.symbol, prev.clientOrderId, { conditional: true });
      if (q.kind === "found" && (q.order.status === "NEW" || q.order.status === "PARTIALLY_FILLED")) {
        await finisher.writeProtectiveStop(record.symbol, prev);
        previous = { previous_stop: "working" };
      } else {
        const outcome = await this.restore(record.planId, record.symbol, prev);
        restored = outcome.ok;
        previous = restoreContext(prev, outcome);
      }
    }
    await finisher.endClaimed(
      {
        ...spec,
        decision: "ERROR",
        reason: restored ? "protective_stop_restored" : "internal_error",
        context: { interrupted: "before_new_stop", after: "restart", ...previous },
        executed: false,
        wouldExecute: false,
      },
      { status: "error", from },
    );
  }

  /** Place the previous stop again at its old trigger (deterministic client id per plan). */
  private async restore(
    planId: string,
    symbol: string,
    prev: ProtectiveStopEntry,
  ): Promise<{ ok: true; orderId: string } | { ok: false; why: string }> {
    const req: OrderRequest = {
      symbol,
      side: prev.side as OrderSide,
      type: "STOP_MARKET",
      closePosition: true,
      stopPrice: prev.stopPrice,
      clientOrderId: clientOrderIdFor(planId, "restore"),
      ...(prev.positionSide === "LONG" || prev.positionSide === "SHORT"
        ? { positionSide: prev.positionSide as PositionSide }
        : {}),
    };
    const end = await this.o.sender.place(req, {
      gate: async () => ({ kind: "go" }),
      onUnknown: async () => undefined,
    });
    if (end.kind === "filled") {
      await this.o.finisher.writeProtectiveStop(symbol, {
        ...prev,
        clientOrderId: end.order.clientOrderId,
        orderId: end.order.orderId,
        planId,
      });
      this.o.log.warn({ planId, symbol, stopPrice: prev.stopPrice }, "previous protective stop placed again");
      return { ok: true, orderId: end.order.orderId };
    }
    await this.o.finisher.writeProtectiveStop(symbol, null, true);
    const why =
      end.kind === "notFilled"
        ? `${end.reason} ${renderContext(end.context)}`
        : end.kind === "stopped"
          ? `${end.stop.reason} ${renderContext(end.stop.context)}`
          : end.kind === "abandoned"
            ? end.why
            : end.detail;
    this.o.log.error(
      { planId, symbol, why },
      "NO PROTECTIVE STOP: the previous stop could not be placed again",
    );
    return { ok: false, why };
  }

  /** Cancel a working stop; null when it no longer works at the venue (cancelled now or before). */
  private async cancel(symbol: string, clientOrderId: string): Promise<string | null> {
    const r = await this.o.exchange.cancelOrder(symbol, clientOrderId, { conditional: true });
    if (r.kind === "canceled" || r.kind === "notOpen") return null;
    if (r.kind === "unknown" || r.kind === "notSent") {
      const q = await this.o.exchange.getOrder(symbol, clientOrderId, { conditional: true });
      if (q.kind === "notFound") return null;
      if (q.kind === "found" && q.order.status !== "NEW") return null;
      return `cancel outcome unknown: ${r.detail}`;
    }
    if (r.kind === "rateLimited") return `rate limited, retry after ${r.retryAfterMs} ms`;
    return `${r.code} ${r.msg}`;
  }

  /** The kill switch is read once more before the cancel, so a halted system does not touch a working stop. */
  private async haltedBeforeCancel(): Promise<Stop | null> {
    const [ks, ts] = await Promise.all([
      readKillSwitch(this.o.redis, this.o.cfg.mode),
      readTradingState(this.o.redis),
    ]);
    if (!ks.halted && !ts.halted) return null;
    return stopWith(
      "BLOCKED",
      ks.halted ? "kill_switch_active" : "trading_state_halted",
      { checked: "before_cancel", working_stop: "in_place" },
      "kill_switch",
    );
  }

  /** The freshest mark price: the venue's position, else P3.3's snapshot; null when neither is usable. */
  private async markPrice(symbol: string, leg: PositionSide | undefined): Promise<string | null> {
    try {
      const positions = await this.o.exchange.getPositions();
      const p = positions.find(
        (x) =>
          x.symbol === symbol && (leg === undefined || x.positionSide === leg || x.positionSide === "BOTH"),
      );
      if (p !== undefined && new Decimal(p.markPrice).gt(0)) return p.markPrice;
    } catch (err) {
      this.o.log.warn({ err, symbol }, "mark price from the venue unavailable; using the snapshot");
    }
    const snap = await this.o.redis.hget(keys.positionSnapshot(symbol), "mark_price");
    return snap !== null && snap !== "" && new Decimal(snap).gt(0) ? snap : null;
  }

  private async readEntry(symbol: string): Promise<ProtectiveStopEntry | null> {
    const h = await this.o.redis.hgetall(keys.protectiveStop(symbol));
    if (!h.client_order_id) return null;
    return {
      clientOrderId: h.client_order_id,
      orderId: h.order_id ?? "",
      planId: h.plan_id ?? "",
      side: h.side ?? "",
      stopPrice: h.stop_price ?? "",
      positionSide: h.position_side ?? "",
    };
  }
}

/** A SELL stop (long position) triggers at or below its price, a BUY stop at or above. */
export function wouldTrigger(side: OrderSide, stopPrice: string, mark: string): boolean {
  const s = new Decimal(stopPrice);
  return side === "SELL" ? s.gte(mark) : s.lte(mark);
}

function prevFields(p: ProtectiveStopEntry): Record<string, string> {
  return {
    [RECORD_EXTRA.prevStopClientOrderId]: p.clientOrderId,
    [RECORD_EXTRA.prevStopOrderId]: p.orderId,
    [RECORD_EXTRA.prevStopPrice]: p.stopPrice,
    [RECORD_EXTRA.prevStopSide]: p.side,
    [RECORD_EXTRA.prevStopPositionSide]: p.positionSide,
  };
}

function prevFromRecord(raw: Readonly<Record<string, string>>): ProtectiveStopEntry | null {
  const cid = raw[RECORD_EXTRA.prevStopClientOrderId];
  if (cid === undefined || cid === "") return null;
  return {
    clientOrderId: cid,
    orderId: raw[RECORD_EXTRA.prevStopOrderId] ?? "",
    planId: "",
    side: raw[RECORD_EXTRA.prevStopSide] ?? "",
    stopPrice: raw[RECORD_EXTRA.prevStopPrice] ?? "",
    positionSide: raw[RECORD_EXTRA.prevStopPositionSide] ?? "",
  };
}

/** What became of the previous stop after the replacement failed; `no_protective_stop` when nothing protects. */
function restoreContext(
  prev: ProtectiveStopEntry,
  outcome: { ok: true; orderId: string } | { ok: false; why: string },
): ReasonContext {
  return outcome.ok
    ? {
        previous_stop: "placed_again",
        previous_stop_price: prev.stopPrice,
        previous_stop_order: outcome.orderId,
      }
    : { previous_stop: "not_placed_again", previous_stop_error: outcome.why, no_protective_stop: true };
}
