import {
  decodePositionView,
  encodePositionLedgerPatch,
  encodePositionSnapshot,
  encodePositionView,
  errorText,
  keys,
  type PositionSnapshot,
  positionSnapshotFields,
} from "@quantum/contracts";
import type { Exchange, ExchangePosition, SymbolRules } from "@quantum/exchange";
import type { P33Metrics } from "@quantum/metrics";
import type { Logger } from "@quantum/runtime";
import { Decimal } from "decimal.js";
import type { Redis } from "ioredis";
import { parseDecimal, qtyTolerance } from "./checks.js";
import { initLedgerArgs, parseInitLedgerReply } from "./scripts.js";
import { WakeableSleep, withTimeout } from "./timing.js";

export interface SnapshotServiceOptions {
  redis: Redis;
  exchange: Exchange;
  /** Allowlisted symbols: each gets a snapshot per cycle (absent from the venue's answer = flat). */
  symbols: readonly string[];
  pollSec: number;
  tolerancePct: number;
  metrics: P33Metrics;
  logger: Logger;
  /** Bound of the on-demand fetch of the permit path; default 500 ms. */
  onDemandTimeoutMs?: number;
}

/** Who wrote a ledger initialised from the exchange snapshot. */
export const LEDGER_INIT_SOURCE = "p33_init";

/** The hedge-leg fields of a snapshot hash (absent in one-way mode). */
const SNAPSHOT_LEG_FIELDS = [positionSnapshotFields.longAmt, positionSnapshotFields.shortAmt] as const;

/** How long stop() waits for a running exchange fetch. */
const STOP_WAIT_MS = 2000;

function sideOf(amt: Decimal): PositionSnapshot["side"] {
  return amt.isZero() ? "NONE" : amt.isNegative() ? "SHORT" : "LONG";
}

function decimalOr(raw: string, fallback: string): string {
  const d = parseDecimal(raw);
  return d === null ? fallback : d.toFixed();
}

/** Sum of the signed amounts of some position rows. */
function sumAmt(rows: readonly ExchangePosition[]): Decimal {
  return rows.reduce((sum, p) => sum.plus(parseDecimal(p.positionAmt) ?? 0), new Decimal(0));
}

/**
 * One snapshot per symbol from one positions answer. `position_amt` is the net of the symbol's rows; in
 * hedge mode (rows with positionSide LONG / SHORT) each leg is kept apart in `long_amt` / `short_amt`.
 */
export function snapshotsFrom(
  positions: readonly ExchangePosition[],
  symbols: readonly string[],
  source: string,
  nowSec: number,
): Map<string, PositionSnapshot> {
  const out = new Map<string, PositionSnapshot>();
  for (const symbol of symbols) {
    const legs = positions.filter((p) => p.symbol === symbol);
    const net = sumAmt(legs);
    const hedge = legs.some((p) => p.positionSide !== "BOTH");
    const main = legs
      .slice()
      .sort((a, b) =>
        (parseDecimal(b.positionAmt)?.abs() ?? new Decimal(0)).cmp(parseDecimal(a.positionAmt)?.abs() ?? 0),
      )[0];
    const pnl = legs.reduce((sum, p) => sum.plus(parseDecimal(p.unrealizedPnl) ?? 0), new Decimal(0));
    out.set(symbol, {
      positionAmt: net.toFixed(),
      side: sideOf(net),
      entryPrice: main === undefined ? "0" : decimalOr(main.entryPrice, "0"),
      markPrice: main === undefined ? "0" : decimalOr(main.markPrice, "0"),
      unrealizedPnl: pnl.toFixed(),
      leverage: main === undefined ? "0" : decimalOr(main.leverage, "0"),
      tsEpoch: nowSec,
      source,
      ...(hedge
        ? {
            longAmt: sumAmt(legs.filter((p) => p.positionSide === "LONG")).toFixed(),
            shortAmt: sumAmt(legs.filter((p) => p.positionSide === "SHORT")).toFixed(),
          }
        : {}),
    });
  }
  return out;
}

/**
 * The exchange snapshot loop: every P33_POLL_SEC one positions call for all symbols, written to
 * quantum:position:snapshot:<SYMBOL>; missing ledgers initialised from it; the operator view and gauges
 * kept current. `refresh()` is single-flight: the permit path's on-demand fetch shares a running one.
 */
export class SnapshotService {
  private readonly o: Required<SnapshotServiceOptions>;
  private readonly log: Logger;
  private readonly rules = new Map<string, SymbolRules>();
  /** Symbols whose rules the venue has answered for (listed or not). */
  private readonly rulesAnswered = new Set<string>();
  private inflight: Promise<Map<string, PositionSnapshot>> | null = null;
  private loop: Promise<void> | null = null;
  private running = false;
  private readonly sleeper = new WakeableSleep();
  private lastLoop = 0;
  private attempted = false;
  private failing = false;

  constructor(opts: SnapshotServiceOptions) {
    this.o = { onDemandTimeoutMs: 500, ...opts };
    this.log = opts.logger.child({ component: "snapshot-loop" });
  }

  get pollMs(): number {
    return this.o.pollSec * 1000;
  }

  /** Bound of one loop cycle's exchange fetch. */
  get cycleTimeoutMs(): number {
    return Math.max(2000, Math.min(this.pollMs, 10_000));
  }

  /** The quantity step of a symbol, null until its rules were fetched (or when the venue does not list it). */
  stepSize(symbol: string): string | null {
    return this.rules.get(symbol)?.stepSize ?? null;
  }

  /**
   * Whether the permit path should ask the venue now: the snapshot is missing, or the rules are unknown and
   * the venue was never asked successfully (an unlisted symbol does not trigger a fetch per plan).
   */
  needsFetch(symbol: string, snapshot: PositionSnapshot | null): boolean {
    return snapshot === null || (this.stepSize(symbol) === null && !this.rulesAnswered.has(symbol));
  }

  /** True once the first cycle ran (successful or not). */
  get firstAttemptDone(): boolean {
    return this.attempted;
  }

  /** Whether the loop ran recently (liveness for /health). */
  alive(): boolean {
    const maxStallMs = Math.max(10_000, 2 * this.pollMs + 2 * this.cycleTimeoutMs);
    return this.running && Date.now() - this.lastLoop <= maxStallMs;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.lastLoop = Date.now();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.sleeper.wake();
    await this.loop;
    // A fetch still hanging on the venue is abandoned after a short wait (shutdown must finish within 10 s).
    if (this.inflight !== null) {
      await withTimeout(this.inflight, STOP_WAIT_MS, "snapshot fetch at shutdown").catch(() => undefined);
    }
  }

  /** One positions call for all symbols, written to Redis (single-flight). Throws when the venue fails. */
  refresh(): Promise<Map<string, PositionSnapshot>> {
    if (this.inflight === null) {
      this.inflight = this.fetchAndWrite().finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  /** The permit path's bounded fetch: the fresh snapshots, or null when the venue did not answer in time. */
  async fetchOnDemand(): Promise<Map<string, PositionSnapshot> | null> {
    try {
      return await withTimeout(this.refresh(), this.o.onDemandTimeoutMs, "on-demand snapshot fetch");
    } catch (err) {
      this.log.warn({ err: { message: errorText(err) } }, "on-demand snapshot fetch failed");
      return null;
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.lastLoop = Date.now();
      await this.cycle();
      this.attempted = true;
      this.lastLoop = Date.now();
      if (!this.running) break;
      await this.sleeper.sleep(this.pollMs);
    }
  }

  private async cycle(): Promise<void> {
    try {
      await withTimeout(this.refresh(), this.cycleTimeoutMs, "positions snapshot");
      if (this.failing) this.log.info({}, "exchange snapshots resumed");
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.log.warn({ err: { message: errorText(err) } }, "exchange snapshot failed");
      this.failing = true;
    }
    try {
      await this.reconcileViews();
    } catch (err) {
      this.log.warn({ err: { message: errorText(err) } }, "position view update failed");
    }
  }

  private async refreshRules(): Promise<void> {
    await Promise.all(
      this.o.symbols.map(async (symbol) => {
        try {
          const rules = await this.o.exchange.getSymbolRules(symbol);
          this.rulesAnswered.add(symbol);
          if (rules !== null) this.rules.set(symbol, rules);
          else if (!this.rules.has(symbol)) this.log.warn({ symbol }, "symbol not listed by the venue");
        } catch (err) {
          if (!this.rules.has(symbol))
            this.log.warn({ symbol, err: { message: errorText(err) } }, "symbol rules unavailable");
        }
      }),
    );
  }

  private async fetchAndWrite(): Promise<Map<string, PositionSnapshot>> {
    const [positions] = await Promise.all([this.o.exchange.getPositions(), this.refreshRules()]);
    const nowSec = Date.now() / 1000;
    const snapshots = snapshotsFrom(positions, this.o.symbols, this.o.exchange.venue, nowSec);
    const pipe = this.o.redis.pipeline();
    const initReplyAt: number[] = [];
    for (const [symbol, snap] of snapshots) {
      // one-way mode: no leg fields may survive from an earlier hedge-mode snapshot
      if (snap.longAmt === undefined) pipe.hdel(keys.positionSnapshot(symbol), ...SNAPSHOT_LEG_FIELDS);
      pipe.hset(keys.positionSnapshot(symbol), encodePositionSnapshot(snap));
      const init = encodePositionLedgerPatch({
        lastKnownAmt: snap.positionAmt,
        updatedAt: nowSec,
        source: LEDGER_INIT_SOURCE,
      });
      pipe.quantumInitLedger(...initLedgerArgs(keys.positionLedger(symbol), init));
      initReplyAt.push(pipe.length - 1);
    }
    const replies = (await pipe.exec()) ?? [];
    const failed = replies.find(([err]) => err !== null);
    if (failed !== undefined) throw failed[0];
    [...snapshots.keys()].forEach((symbol, i) => {
      const reply = replies[initReplyAt[i] ?? -1];
      if (reply !== undefined && parseInitLedgerReply(reply[1]).initialised) {
        this.log.info(
          { symbol, amt: snapshots.get(symbol)?.positionAmt },
          "ledger initialised from snapshot",
        );
      }
    });
    return snapshots;
  }

  /** Operator view quantum:position:<SYMBOL> and the gauges, from what Redis holds now. */
  private async reconcileViews(): Promise<void> {
    const { redis, symbols, metrics, tolerancePct } = this.o;
    const read = redis.pipeline();
    for (const s of symbols) {
      read.hmget(keys.positionSnapshot(s), "position_amt", "ts_epoch");
      read.hget(keys.positionLedger(s), "last_known_amt");
      read.hgetall(keys.positionView(s));
    }
    const rows = (await read.exec()) ?? [];
    const nowSec = Date.now() / 1000;
    const write = redis.pipeline();
    let writes = 0;
    symbols.forEach((symbol, i) => {
      const [snapErr, snapRow] = rows[3 * i] ?? [null, null];
      const [ledgerErr, ledgerRaw] = rows[3 * i + 1] ?? [null, null];
      const [viewErr, viewRaw] = rows[3 * i + 2] ?? [null, null];
      if (snapErr !== null || ledgerErr !== null || viewErr !== null) return;
      const [amtRaw, tsRaw] = (snapRow as (string | null)[] | null) ?? [null, null];
      const exchangeAmt = parseDecimal(amtRaw);
      const ts = Number(tsRaw);
      if (exchangeAmt === null || tsRaw === null || !Number.isFinite(ts)) return;
      metrics.snapshotAgeSeconds.set({ symbol }, Math.max(0, nowSec - ts));
      metrics.exchangePositionAmt.set({ symbol }, exchangeAmt.toNumber());
      const ledgerAmt = parseDecimal(ledgerRaw as string | null);
      if (ledgerAmt === null) return;
      metrics.ledgerPositionAmt.set({ symbol }, ledgerAmt.toNumber());
      const step = this.stepSize(symbol) ?? "0";
      const agree = exchangeAmt
        .minus(ledgerAmt)
        .abs()
        .lte(qtyTolerance(exchangeAmt, step, tolerancePct));
      const prev = decodePositionView(viewRaw);
      const since = agree
        ? null
        : prev.ok && prev.value.mismatchSince !== null
          ? prev.value.mismatchSince
          : nowSec;
      metrics.positionMismatchSeconds.set({ symbol }, since === null ? 0 : Math.max(0, nowSec - since));
      write.hset(
        keys.positionView(symbol),
        encodePositionView({
          exchangeAmt: exchangeAmt.toFixed(),
          ledgerAmount: ledgerAmt.toFixed(),
          mismatchSince: since,
          snapshotTs: ts,
        }),
      );
      writes++;
    });
    if (writes > 0) await write.exec();
  }
}
