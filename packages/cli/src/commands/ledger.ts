import {
  decodePaperPosition,
  decodePositionLedger,
  decodePositionSnapshot,
  decodePositionView,
  encodePositionLedgerPatch,
  isDecimalString,
  keys,
  type PaperPosition,
  type PositionLedger,
  type PositionSnapshot,
  type PositionView,
} from "@quantum/contracts";
import { hashView, type KeyView, readHashKeys } from "@quantum/insight";
import { Decimal } from "decimal.js";
import type { Redis } from "ioredis";
import { UsageError } from "../errors/usage-error.js";
import { atomicChange, queueAudit } from "./audit.js";
import { validateSymbol } from "./permit.js";

type HashView<T> = KeyView<T, Record<string, string>>;

export interface LedgerShowResult {
  readonly symbol: string;
  readonly ledger: HashView<PositionLedger>;
}

export interface LedgerSetResult {
  readonly symbol: string;
  readonly previous: HashView<PositionLedger>;
  /** The fields written (last_known_amt, updated_at, source=operator). */
  readonly written: Record<string, string>;
}

export interface LedgerAdoptResult extends LedgerSetResult {
  /** The snapshot adopted and its age. */
  readonly snapshotAmt: string;
  readonly snapshotAgeSec: number;
  readonly staleThresholdSec: number;
}

/** `ledger show <SYMBOL>`. */
export async function ledgerShow(redis: Redis, symbolArg: string): Promise<LedgerShowResult> {
  const symbol = validateSymbol(symbolArg);
  const [l] = await readHashKeys(redis, [keys.positionLedger(symbol)]);
  return { symbol, ledger: hashView(l!, decodePositionLedger) };
}

/** A signed decimal amount as written to Redis (no exponent, no `+`), or a usage error. */
export function parseAmount(amt: string): string {
  const a = amt.trim();
  if (!isDecimalString(a)) {
    throw new UsageError(`amount must be a signed decimal like 0.062 or -1.5 (no exponent), got "${amt}"`);
  }
  return a;
}

/** Write the ledger amount of a symbol with its audit entry; WATCHes `watched` around `read`. */
async function writeLedger<T>(
  redis: Redis,
  symbol: string,
  command: string,
  opts: { by: string; nowMs?: number; reason?: string },
  watched: readonly string[],
  read: () => Promise<{ amount: string; extra: T }>,
): Promise<[LedgerSetResult, T]> {
  const nowMs = opts.nowMs ?? Date.now();
  return atomicChange(redis, [keys.positionLedger(symbol), ...watched], async (tx) => {
    const { amount, extra } = await read();
    const previous = (await ledgerShow(redis, symbol)).ledger;
    const written = encodePositionLedgerPatch({
      lastKnownAmt: amount,
      updatedAt: Number((nowMs / 1000).toFixed(3)),
      source: "operator",
    });
    tx.hset(keys.positionLedger(symbol), written);
    queueAudit(
      tx,
      opts.by,
      {
        command,
        args: command === "ledger set" ? [symbol, amount] : [symbol],
        reason: opts.reason ?? null,
        before: previous.decoded?.lastKnownAmt ?? (previous.present ? JSON.stringify(previous.raw) : null),
        after: amount,
      },
      nowMs,
    );
    return [{ symbol, previous, written }, extra];
  });
}

/** `ledger set <SYMBOL> <amt>`: what the system believes the position is, fixed by an operator. */
export async function ledgerSet(
  redis: Redis,
  symbolArg: string,
  amtArg: string,
  opts: { by: string; nowMs?: number; reason?: string },
): Promise<LedgerSetResult> {
  const symbol = validateSymbol(symbolArg);
  const amount = parseAmount(amtArg);
  const [r] = await writeLedger(redis, symbol, "ledger set", opts, [], async () => ({ amount, extra: null }));
  return r;
}

/**
 * `ledger adopt <SYMBOL>`: ledger last_known_amt := the exchange snapshot's position_amt. Refused (usage
 * error, nothing written) when the snapshot is missing, does not decode, or is older than
 * `staleThresholdSec` (P3.3's rule: such a snapshot denies plans as stale_exchange_state).
 */
export async function ledgerAdopt(
  redis: Redis,
  symbolArg: string,
  opts: { by: string; staleThresholdSec: number; nowMs?: number; reason?: string },
): Promise<LedgerAdoptResult> {
  const symbol = validateSymbol(symbolArg);
  const nowMs = opts.nowMs ?? Date.now();
  const [r, extra] = await writeLedger(
    redis,
    symbol,
    "ledger adopt",
    opts,
    [keys.positionSnapshot(symbol)],
    async () => {
      const [s] = await readHashKeys(redis, [keys.positionSnapshot(symbol)]);
      const snap = hashView(s!, decodePositionSnapshot);
      if (!snap.present) {
        throw new UsageError(`ledger adopt REFUSED: no exchange snapshot for ${symbol}`, "snapshot_missing");
      }
      if (snap.decoded === null) {
        throw new UsageError(
          `ledger adopt REFUSED: the snapshot of ${symbol} does not decode (${snap.decodeError ?? "?"})`,
          "snapshot_invalid",
        );
      }
      const ageSec = Math.max(0, nowMs / 1000 - snap.decoded.tsEpoch);
      if (ageSec > opts.staleThresholdSec) {
        throw new UsageError(
          `ledger adopt REFUSED: the snapshot of ${symbol} is ${ageSec.toFixed(1)}s old (stale after ` +
            `${opts.staleThresholdSec}s); is P3.3 running?`,
          "snapshot_stale",
        );
      }
      return { amount: snap.decoded.positionAmt, extra: { ageSec, amt: snap.decoded.positionAmt } };
    },
  );
  return {
    ...r,
    snapshotAmt: extra.amt,
    snapshotAgeSec: extra.ageSec,
    staleThresholdSec: opts.staleThresholdSec,
  };
}

export interface PositionResult {
  readonly symbol: string;
  readonly snapshot: HashView<PositionSnapshot>;
  readonly ledger: HashView<PositionLedger>;
  readonly view: HashView<PositionView>;
  readonly paper: HashView<PaperPosition>;
  /** Seconds since the exchange snapshot was taken. */
  readonly snapshotAgeSec: number | null;
  /** exchange − ledger (decimal); null when either is missing. */
  readonly drift: { readonly exchangeAmt: string; readonly ledgerAmt: string; readonly diff: string } | null;
}

/** `position <SYMBOL>`: exchange snapshot, ledger, operator view and paper position together. */
export async function positionShow(
  redis: Redis,
  symbolArg: string,
  opts: { nowMs?: number } = {},
): Promise<PositionResult> {
  const symbol = validateSymbol(symbolArg);
  const [s, l, v, p] = await readHashKeys(redis, [
    keys.positionSnapshot(symbol),
    keys.positionLedger(symbol),
    keys.positionView(symbol),
    keys.paperPosition(symbol),
  ]);
  const snapshot = hashView(s!, decodePositionSnapshot);
  const ledger = hashView(l!, decodePositionLedger);
  const nowSec = (opts.nowMs ?? Date.now()) / 1000;
  const snapshotAgeSec = snapshot.decoded === null ? null : Math.max(0, nowSec - snapshot.decoded.tsEpoch);
  const drift =
    snapshot.decoded !== null && ledger.decoded !== null
      ? {
          exchangeAmt: snapshot.decoded.positionAmt,
          ledgerAmt: ledger.decoded.lastKnownAmt,
          diff: new Decimal(snapshot.decoded.positionAmt).minus(ledger.decoded.lastKnownAmt).toFixed(),
        }
      : null;
  return {
    symbol,
    snapshot,
    ledger,
    view: hashView(v!, decodePositionView),
    paper: hashView(p!, decodePaperPosition),
    snapshotAgeSec,
    drift,
  };
}
