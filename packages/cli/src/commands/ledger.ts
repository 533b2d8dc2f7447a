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

/** `ledger set <SYMBOL> <amt>`: what the system believes the position is, fixed by an operator. */
export async function ledgerSet(
  redis: Redis,
  symbolArg: string,
  amtArg: string,
  opts: { nowMs?: number } = {},
): Promise<LedgerSetResult> {
  const symbol = validateSymbol(symbolArg);
  const amount = parseAmount(amtArg);
  const previous = (await ledgerShow(redis, symbol)).ledger;
  const written = encodePositionLedgerPatch({
    lastKnownAmt: amount,
    updatedAt: Number(((opts.nowMs ?? Date.now()) / 1000).toFixed(3)),
    source: "operator",
  });
  await redis.hset(keys.positionLedger(symbol), written);
  return { symbol, previous, written };
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
