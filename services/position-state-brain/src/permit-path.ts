import {
  type ApplyPlan,
  decodePositionSnapshot,
  type ExchangeVenue,
  encodeP33Permit,
  encodePositionLedgerPatch,
  keys,
  type P33Permit,
  type PositionSnapshot,
  streamIdMs,
  streams,
} from "@quantum/contracts";
import type { P33Metrics, StreamMetrics } from "@quantum/metrics";
import { deadLetterFields, type Logger, type StreamItem, xaddArgs } from "@quantum/runtime";
import type { Redis } from "ioredis";
import { ACTION_FACTORS, evaluatePlan } from "./checks.js";
import type { PlanEntry } from "./plan-entry.js";
import { initLedgerArgs, parseInitLedgerReply } from "./scripts.js";
import { LEDGER_INIT_SOURCE, type SnapshotService } from "./snapshot-service.js";

export interface PermitPathOptions {
  redis: Redis;
  snapshots: SnapshotService;
  allowlist: readonly string[];
  staleThresholdSec: number;
  cooldownSec: number;
  tolerancePct: number;
  permitTtlSec: number;
  /** The venue whose positions this instance reads; named in every allow permit. */
  venue: ExchangeVenue;
  metrics: P33Metrics;
  streamMetrics: StreamMetrics;
  service: string;
  logger: Logger;
}

/** What P3.3 knows about one symbol while evaluating a batch. */
interface SymbolState {
  snapshot: PositionSnapshot | null;
  ledgerAmtRaw: string | null;
  /** The ledger's `last_result_plan_id`: the last fill the ledger has applied (the permit's basis). */
  ledgerResultPlanId: string | null;
  cooldownRaw: string | null;
  holdRaw: string | null;
}

/** One permit to write (SET NX EX) and what to report once it is written. */
interface PendingPermit {
  id: string;
  planId: string;
  symbol: string;
  permit: P33Permit;
}

/** Label value of a symbol: allowlisted symbols by name, anything else `other` (bounded labels). */
function symbolLabel(symbol: string, allowlist: ReadonlySet<string>): string {
  return allowlist.has(symbol) ? symbol : "other";
}

function replyOf(rows: Array<[Error | null, unknown]>, i: number): unknown {
  const row = rows[i];
  if (row === undefined) throw new Error("pipeline reply missing");
  if (row[0] !== null) throw row[0];
  return row[1];
}

/**
 * The permit path: for each EXECUTE plan of a batch exactly one permit — allow or deny — written
 * with SET NX EX, so a redelivered plan never changes an existing permit. State of all the batch's symbols is
 * read in one pipeline; the exchange is only asked (bounded, shared) when a snapshot is missing.
 */
export class PermitPath {
  private readonly o: PermitPathOptions;
  private readonly allow: ReadonlySet<string>;
  private readonly log: Logger;

  constructor(opts: PermitPathOptions) {
    this.o = opts;
    this.allow = new Set(opts.allowlist);
    this.log = opts.logger.child({ component: "permit-path" });
  }

  /** StreamConsumer handler: resolves to the ids whose effect (permit, dead letter or nothing) is written. */
  readonly handleBatch = async (items: StreamItem<PlanEntry>[]): Promise<string[]> => {
    const ack: string[] = [];
    const plans: Array<{ id: string; plan: ApplyPlan }> = [];
    const malformed: Array<{ id: string; entry: Extract<PlanEntry, { kind: "malformed" }> }> = [];
    for (const item of items) {
      const e = item.value;
      if (e.kind === "malformed") malformed.push({ id: item.id, entry: e });
      else if (e.plan.decision === "EXECUTE") plans.push({ id: item.id, plan: e.plan });
      else ack.push(item.id); // SKIP / BLOCKED / ERROR: nobody waits for a P3.3 permit
    }
    const symbols = [
      ...new Set(
        plans
          .filter(({ plan }) => this.allow.has(plan.symbol) && Object.hasOwn(ACTION_FACTORS, plan.action))
          .map(({ plan }) => plan.symbol),
      ),
    ];
    const state = await this.readState(symbols);
    const nowMs = Date.now();
    const createdAt = nowMs / 1000;
    const pending: PendingPermit[] = plans.map(({ id, plan }) => {
      const s = state.get(plan.symbol);
      const verdict = evaluatePlan({
        symbol: plan.symbol,
        action: plan.action,
        ...(plan.positionSide !== undefined ? { positionSide: plan.positionSide } : {}),
        allowlist: this.allow,
        snapshot: s?.snapshot ?? null,
        stepSize: this.o.snapshots.stepSize(plan.symbol),
        ledgerAmtRaw: s?.ledgerAmtRaw ?? null,
        cooldownRaw: s?.cooldownRaw ?? null,
        holdRaw: s?.holdRaw ?? null,
        nowMs,
        staleThresholdSec: this.o.staleThresholdSec,
        cooldownSec: this.o.cooldownSec,
        tolerancePct: this.o.tolerancePct,
      });
      const permit: P33Permit = verdict.allow
        ? {
            allow: true,
            symbol: plan.symbol,
            safeQty: verdict.safeQty,
            exchangePositionAmt: verdict.exchangeAmt,
            ledgerAmt: verdict.ledgerAmt,
            createdAt,
            reason: "sanity_checks_passed",
            venue: this.o.venue,
            positionSide: verdict.positionSide,
            ledgerResultPlanId: s?.ledgerResultPlanId ?? null,
            snapshotTs: s?.snapshot?.tsEpoch ?? null,
          }
        : { allow: false, symbol: plan.symbol, reason: verdict.reason, context: verdict.context, createdAt };
      return { id, planId: plan.planId, symbol: plan.symbol, permit };
    });
    ack.push(...(await this.write(pending, malformed, createdAt)));
    return ack;
  };

  /** Snapshot, ledger, cooldown and hold of every symbol in one pipeline; missing pieces filled in. */
  private async readState(symbols: readonly string[]): Promise<Map<string, SymbolState>> {
    const out = new Map<string, SymbolState>();
    if (symbols.length === 0) return out;
    const pipe = this.o.redis.pipeline();
    for (const s of symbols) {
      pipe.hgetall(keys.positionSnapshot(s));
      pipe.hmget(keys.positionLedger(s), "last_known_amt", "last_result_plan_id");
      pipe.get(keys.cooldownLastExecTs(s));
      pipe.get(keys.reconcileHold(s));
    }
    const rows = (await pipe.exec()) ?? [];
    symbols.forEach((symbol, i) => {
      const snap = decodePositionSnapshot(replyOf(rows, 4 * i));
      const [ledgerAmtRaw = null, ledgerResultPlanId = null] = (replyOf(rows, 4 * i + 1) ?? []) as (
        | string
        | null
      )[];
      out.set(symbol, {
        snapshot: snap.ok ? snap.value : null,
        ledgerAmtRaw,
        ledgerResultPlanId,
        cooldownRaw: replyOf(rows, 4 * i + 2) as string | null,
        holdRaw: replyOf(rows, 4 * i + 3) as string | null,
      });
    });
    const missing = symbols.filter((s) => this.o.snapshots.needsFetch(s, out.get(s)?.snapshot ?? null));
    if (missing.length > 0) {
      const fetched = await this.o.snapshots.fetchOnDemand();
      for (const s of missing) {
        const st = out.get(s);
        const snap = fetched?.get(s);
        if (st !== undefined && st.snapshot === null && snap !== undefined) st.snapshot = snap;
      }
    }
    await this.initMissingLedgers(out);
    return out;
  }

  /** A symbol with a snapshot but no ledger gets its ledger initialised from the snapshot first. */
  private async initMissingLedgers(state: Map<string, SymbolState>): Promise<void> {
    const todo = [...state.entries()].filter(([, s]) => s.ledgerAmtRaw === null && s.snapshot !== null);
    if (todo.length === 0) return;
    const nowSec = Date.now() / 1000;
    const pipe = this.o.redis.pipeline();
    for (const [symbol, s] of todo) {
      const fields = encodePositionLedgerPatch({
        lastKnownAmt: (s.snapshot as PositionSnapshot).positionAmt,
        updatedAt: nowSec,
        source: LEDGER_INIT_SOURCE,
      });
      pipe.quantumInitLedger(...initLedgerArgs(keys.positionLedger(symbol), fields));
    }
    const rows = (await pipe.exec()) ?? [];
    todo.forEach(([symbol, s], i) => {
      const r = parseInitLedgerReply(replyOf(rows, i));
      s.ledgerAmtRaw = r.amt;
      if (r.initialised) this.log.info({ symbol, amt: r.amt }, "ledger initialised from snapshot");
    });
  }

  /** One pipeline: dead letters, deny permits of malformed plans, every evaluated permit (SET NX EX). */
  private async write(
    pending: PendingPermit[],
    malformed: Array<{ id: string; entry: Extract<PlanEntry, { kind: "malformed" }> }>,
    createdAt: number,
  ): Promise<string[]> {
    const { redis, permitTtlSec, service } = this.o;
    const pipe = redis.pipeline();
    const ops: Array<{ id: string; kind: "deadletter" } | { id: string; kind: "permit"; p: PendingPermit }> =
      [];
    for (const { id, entry } of malformed) {
      const dl = deadLetterFields({
        stream: streams.applyPlan,
        id,
        service,
        error: entry.error,
        fields: { ...entry.fields },
      });
      pipe.xadd(...xaddArgs(streams.deadLetter, dl));
      ops.push({ id, kind: "deadletter" });
      if (entry.denyPlanId !== null) {
        const permit: P33Permit = {
          allow: false,
          symbol: entry.symbol,
          reason: "invalid_plan",
          context: { error: entry.error.slice(0, 256) },
          createdAt,
        };
        pending.push({ id, planId: entry.denyPlanId, symbol: entry.symbol, permit });
      }
    }
    for (const p of pending) {
      pipe.set(keys.p33Permit(p.planId), encodeP33Permit(p.permit), "EX", permitTtlSec, "NX");
      ops.push({ id: p.id, kind: "permit", p });
    }
    if (ops.length === 0) return [];
    const rows = (await pipe.exec()) ?? [];
    const failed = new Set<string>();
    const written: PendingPermit[] = [];
    let deadLettered = 0;
    ops.forEach((op, i) => {
      const row = rows[i];
      if (row === undefined || row[0] !== null) {
        failed.add(op.id);
        return;
      }
      if (op.kind === "deadletter") deadLettered++;
      else if (row[1] === "OK") written.push(op.p);
    });
    if (deadLettered > 0) {
      this.o.streamMetrics.deadLetter(streams.applyPlan, deadLettered);
      this.o.streamMetrics.message(streams.applyPlan, "deadletter", deadLettered);
    }
    this.report(written, malformed);
    if (failed.size > 0) this.log.warn({ count: failed.size }, "permit writes failed, entries stay pending");
    return [...new Set(ops.map((op) => op.id))].filter((id) => !failed.has(id));
  }

  private report(
    written: readonly PendingPermit[],
    malformed: ReadonlyArray<{ id: string; entry: Extract<PlanEntry, { kind: "malformed" }> }>,
  ): void {
    const { metrics } = this.o;
    const now = Date.now();
    for (const { id, entry } of malformed) {
      this.log.warn({ id, error: entry.error, planId: entry.denyPlanId }, "malformed plan dead-lettered");
    }
    for (const p of written) {
      const entryMs = streamIdMs(p.id);
      if (entryMs !== null) metrics.permitLatencySeconds.observe(Math.max(0, now - entryMs) / 1000);
      const symbol = symbolLabel(p.symbol, this.allow);
      if (p.permit.allow) {
        metrics.permitAllow.inc({ symbol });
        this.log.info(
          {
            planId: p.planId,
            symbol: p.symbol,
            safeQty: p.permit.safeQty,
            exchangeAmt: p.permit.exchangePositionAmt,
            ledgerAmt: p.permit.ledgerAmt,
            positionSide: p.permit.positionSide,
          },
          "permit allow",
        );
      } else {
        metrics.permitDeny.inc({ reason: p.permit.reason, symbol });
        this.log.info(
          { planId: p.planId, symbol: p.symbol, reason: p.permit.reason, context: p.permit.context },
          "permit deny",
        );
      }
    }
  }
}
