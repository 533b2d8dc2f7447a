import { computePlanId, encodeHarvestProposal, type HarvestProposal, streams } from "@quantum/contracts";
import { closeProposalAt, eventually, type Fields, readStream, toFields } from "@quantum/testkit";
import type { Redis } from "ioredis";

export type { Fields };
export { readStream, toFields };

const BASE_MS = Date.parse("2026-03-01T00:00:00Z");

/** A PARTIAL_50 close proposal; `seq` makes computed_at_utc (and so the plan_id) unique. */
export function closeProposal(
  symbol: string,
  seq: number,
  over: Partial<HarvestProposal> = {},
): HarvestProposal {
  return closeProposalAt(symbol, BASE_MS + seq * 1000, over);
}

export interface SentPlan {
  readonly planId: string;
  readonly symbol: string;
  readonly sentAt: number;
}

export interface SeenResult {
  readonly planId: string;
  readonly fields: Fields;
  readonly at: number;
  count: number;
}

/**
 * The load generator: XADDs close proposals to the harvest.proposal stream (the event path), at most one
 * open plan per symbol and only once the symbol's previous result is `settleMs` old (so P3.3's snapshot and
 * ledger have caught up), and follows apply.result with plain XRANGE reads.
 */
export class Traffic {
  readonly sent = new Map<string, SentPlan>();
  /** plan_ids whose XADD failed (they may or may not have reached Redis). */
  readonly uncertain = new Set<string>();
  readonly results = new Map<string, SeenResult>();
  failedSends = 0;
  private seq = 0;
  private lastResultId = "0-0";
  private readonly busy = new Map<string, string>();
  private readonly freeAt = new Map<string, number>();

  constructor(
    private readonly r: Redis,
    private readonly symbols: readonly string[],
    private readonly opts: { settleMs?: number; seqBase?: number } = {},
  ) {
    this.seq = opts.seqBase ?? 0;
  }

  /** Plans sent whose result has not been seen. */
  outstanding(): number {
    let n = 0;
    for (const id of this.sent.keys()) if (!this.results.has(id)) n++;
    return n;
  }

  /** Symbols free for a new plan now. */
  freeSymbols(now = Date.now()): string[] {
    return this.symbols.filter((s) => !this.busy.has(s) && (this.freeAt.get(s) ?? 0) <= now);
  }

  /** XADD one proposal for `symbol`; returns its plan_id, or null when Redis refused. */
  async send(symbol: string, over: Partial<HarvestProposal> = {}): Promise<string | null> {
    const p = closeProposal(symbol, ++this.seq, over);
    const planId = computePlanId(p);
    this.busy.set(symbol, planId);
    try {
      await this.r.xadd(streams.harvestProposal, "*", ...Object.entries(encodeHarvestProposal(p)).flat());
      this.sent.set(planId, { planId, symbol, sentAt: Date.now() });
      return planId;
    } catch {
      this.failedSends++;
      this.uncertain.add(planId);
      this.busy.delete(symbol);
      this.freeAt.set(symbol, Date.now() + 200);
      return null;
    }
  }

  /** Send to one free symbol, if any; returns the plan_id sent. */
  async sendNext(): Promise<string | null> {
    const free = this.freeSymbols();
    const symbol = free[this.seq % Math.max(1, free.length)];
    return symbol === undefined ? null : this.send(symbol);
  }

  /** Read new apply.result entries; never throws (Redis may be down). */
  async poll(): Promise<void> {
    let rows: Array<[string, string[]]>;
    try {
      rows = (await this.r.xrange(streams.applyResult, `(${this.lastResultId}`, "+", "COUNT", 1000)) as Array<
        [string, string[]]
      >;
    } catch {
      return;
    }
    const now = Date.now();
    for (const [id, flat] of rows) {
      this.lastResultId = id;
      const fields = toFields(flat);
      const planId = fields.plan_id ?? "";
      const seen = this.results.get(planId);
      if (seen !== undefined) {
        seen.count++;
        continue;
      }
      this.results.set(planId, { planId, fields, at: now, count: 1 });
      const symbol = fields.symbol ?? "";
      if (this.busy.get(symbol) === planId) {
        this.busy.delete(symbol);
        this.freeAt.set(symbol, now + (this.opts.settleMs ?? 500));
      }
    }
  }

  /** Poll until every sent plan has a result. */
  async waitAllResolved(timeoutMs: number): Promise<void> {
    await eventually(
      async () => {
        await this.poll();
        const n = this.outstanding();
        if (n > 0) throw new Error(`${n} plans without a result`);
        return true;
      },
      { timeoutMs, intervalMs: 100, message: "every sent plan has its result" },
    );
  }

  /** Milliseconds from XADD to result, per plan that has one. */
  latencies(): number[] {
    const out: number[] = [];
    for (const s of this.sent.values()) {
      const res = this.results.get(s.planId);
      if (res !== undefined) out.push(res.at - s.sentAt);
    }
    return out.sort((a, b) => a - b);
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
