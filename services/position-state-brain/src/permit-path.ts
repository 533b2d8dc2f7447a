import {
  type ApplyPlan,
  type ExchangeVenue,
  encodePositionLedgerPatch,
  errorText,
  keys,
  type P33Permit,
  type PositionSnapshot,
  streamIdMs,
  streams,
} from "@quantum/contracts";
import type { P33Metrics, StreamMetrics } from "@quantum/metrics";
import { deadLetterFields, type Logger, type StreamItem, xaddArgs } from "@quantum/runtime";
import type { Redis } from "ioredis";
import { ACTION_FACTORS } from "./checks.js";
import {
  type PendingPermit,
  type PermitRules,
  permitsFor,
  type SymbolState,
  symbolStateOf,
  warmUpPermitPath,
  writePermitsArgs,
} from "./permit-batch.js";
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
  /** The consumer group reading apply.plan: the permit write acknowledges the batch's entries in it. */
  group: string;
  /** The venue whose positions this instance reads; named in every allow permit. */
  venue: ExchangeVenue;
  metrics: P33Metrics;
  streamMetrics: StreamMetrics;
  service: string;
  logger: Logger;
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
 * read in one command (readPermitState.lua), and every permit is written with the batch's XACK in one more
 * (writePermits.lua); the exchange is only asked (bounded, shared) when a snapshot is missing.
 */
export class PermitPath {
  private readonly o: PermitPathOptions;
  private readonly allow: ReadonlySet<string>;
  private readonly log: Logger;
  private readonly rules: PermitRules;

  constructor(opts: PermitPathOptions) {
    this.o = opts;
    this.allow = new Set(opts.allowlist);
    this.log = opts.logger.child({ component: "permit-path" });
    this.rules = {
      allow: this.allow,
      stepSize: (symbol) => opts.snapshots.stepSize(symbol),
      staleThresholdSec: opts.staleThresholdSec,
      cooldownSec: opts.cooldownSec,
      tolerancePct: opts.tolerancePct,
      venue: opts.venue,
    };
  }

  /** Optimise the batch's pure steps before the first plan (see `warmUpPermitPath`); logs how long it took. */
  warmUp(): void {
    const t0 = performance.now();
    const built = warmUpPermitPath(this.rules);
    this.log.info({ ...built, ms: Math.round(performance.now() - t0) }, "permit path warmed up");
  }

  /**
   * StreamConsumer handler (`handlerAcks`): resolves to the ids whose effect (permit, dead letter or nothing)
   * is written and that are acknowledged, in the same step as the permits.
   */
  readonly handleBatch = async (items: StreamItem<PlanEntry>[]): Promise<string[]> => {
    const done: string[] = [];
    const plans: Array<{ id: string; plan: ApplyPlan }> = [];
    const malformed: Array<{ id: string; entry: Extract<PlanEntry, { kind: "malformed" }> }> = [];
    for (const item of items) {
      const e = item.value;
      if (e.kind === "malformed") malformed.push({ id: item.id, entry: e });
      else if (e.plan.decision === "EXECUTE") plans.push({ id: item.id, plan: e.plan });
      else done.push(item.id); // SKIP / BLOCKED / ERROR: nobody waits for a P3.3 permit
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
    const pending = permitsFor(plans, state, this.rules, nowMs);
    return this.write(pending, malformed, done, createdAt);
  };

  /** Snapshot, ledger, cooldown and hold of every symbol in one command (readPermitState.lua); missing pieces filled in. */
  private async readState(symbols: readonly string[]): Promise<Map<string, SymbolState>> {
    const out = new Map<string, SymbolState>();
    if (symbols.length === 0) return out;
    const stateKeys: string[] = [];
    for (const s of symbols) {
      stateKeys.push(
        keys.positionSnapshot(s),
        keys.positionLedger(s),
        keys.cooldownLastExecTs(s),
        keys.reconcileHold(s),
      );
    }
    const rows = await this.o.redis.quantumReadPermitState(stateKeys.length, ...stateKeys);
    if (!Array.isArray(rows) || rows.length !== symbols.length) {
      throw new Error(
        `readPermitState: ${symbols.length} symbols, reply ${JSON.stringify(rows)?.slice(0, 200)}`,
      );
    }
    symbols.forEach((symbol, i) => {
      out.set(symbol, symbolStateOf(rows[i]));
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

  /**
   * Dead letters of malformed entries first (a pipeline, only when there are any), then one command that
   * writes every permit (SET NX EX; deny permits of malformed plans included) and acknowledges the entries
   * that are done: the permits', the dead-lettered ones and `done`. An entry whose dead letter failed is not
   * acknowledged, so it is read again. Resolves to the acknowledged ids.
   */
  private async write(
    pending: PendingPermit[],
    malformed: Array<{ id: string; entry: Extract<PlanEntry, { kind: "malformed" }> }>,
    done: string[],
    createdAt: number,
  ): Promise<string[]> {
    const { redis, permitTtlSec, service } = this.o;
    const notDone = new Set<string>();
    if (malformed.length > 0) {
      const pipe = redis.pipeline();
      for (const { id, entry } of malformed) {
        const dl = deadLetterFields({
          stream: streams.applyPlan,
          id,
          service,
          error: entry.error,
          fields: { ...entry.fields },
        });
        pipe.xadd(...xaddArgs(streams.deadLetter, dl));
      }
      const rows = (await pipe.exec()) ?? [];
      let deadLettered = 0;
      malformed.forEach(({ id, entry }, i) => {
        const row = rows[i];
        if (row === undefined || row[0] !== null) notDone.add(id);
        else deadLettered++;
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
      });
      if (deadLettered > 0) {
        this.o.streamMetrics.deadLetter(streams.applyPlan, deadLettered);
        this.o.streamMetrics.message(streams.applyPlan, "deadletter", deadLettered);
      }
      if (notDone.size > 0)
        this.log.warn({ count: notDone.size }, "dead-letter writes failed, entries stay pending");
    }
    const ackIds = [...new Set([...done, ...malformed.map((m) => m.id), ...pending.map((p) => p.id)])].filter(
      (id) => !notDone.has(id),
    );
    if (pending.length === 0 && ackIds.length === 0) return [];
    const args = writePermitsArgs(this.o.group, permitTtlSec, pending, ackIds);
    let reply: unknown;
    try {
      reply = await redis.quantumWritePermits(pending.length + 1, ...args);
    } catch (err) {
      this.log.warn(
        { err: { message: errorText(err) }, count: pending.length },
        "permit write failed, entries stay pending",
      );
      return [];
    }
    if (!Array.isArray(reply) || reply.length !== pending.length) {
      // the script ran to its XACK, so the entries are done; only what to report is unknown
      this.log.error(
        { count: pending.length, reply: JSON.stringify(reply)?.slice(0, 200) },
        "writePermits: unexpected reply, permits not reported",
      );
      return ackIds;
    }
    this.report(
      pending.filter((_, i) => reply[i] === 1),
      malformed,
    );
    return ackIds;
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
