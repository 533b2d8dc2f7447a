import {
  computePlanId,
  encodeApplyPlan,
  encodeHarvestProposal,
  encodePositionLedgerPatch,
  type HarvestProposal,
  keys,
  streams,
} from "@quantum/contracts";
import { seedPaperPosition } from "@quantum/exchange";
import type { Redis } from "ioredis";
import { until } from "./stats.js";

/** The six paper symbols, each with a mark price and position sizes that fit its lot rules. */
export const BENCH_SYMBOLS = [
  { symbol: "BTCUSDT", mark: "60000.0", small: "0.500", large: "100.000", safeQty: "0.002" },
  { symbol: "ETHUSDT", mark: "3000.00", small: "-8.000", large: "-1000.000", safeQty: "0.010" },
  { symbol: "BNBUSDT", mark: "550.000", small: "40.00", large: "800.00", safeQty: "0.10" },
  { symbol: "SOLUSDT", mark: "150.0000", small: "-400", large: "-4000", safeQty: "1" },
  { symbol: "XRPUSDT", mark: "0.6000", small: "40000.0", large: "1500000.0", safeQty: "10.0" },
  { symbol: "DOGEUSDT", mark: "0.15000", small: "-200000", large: "-20000000", safeQty: "100" },
] as const;
export type BenchSymbol = (typeof BENCH_SYMBOLS)[number];
export const SYMBOL_NAMES: readonly string[] = BENCH_SYMBOLS.map((s) => s.symbol);

let seq = 0;
const base = Date.now() - 7 * 86_400_000;

/** A fresh proposal (unique computed_at_utc, so a unique plan_id). */
export function proposal(
  symbol: string,
  action: string,
): { p: HarvestProposal; planId: string; args: string[] } {
  seq++;
  const at = base + seq * 1000;
  const p: HarvestProposal = {
    symbol,
    action,
    calibrated: false,
    killScore: 0.3,
    kRegimeFlip: 0.1,
    kSigmaSpike: 0.05,
    kTsDrop: 0.1,
    kAgePenalty: 0.02,
    newSlProposed: null,
    rNet: 1.1,
    lastUpdateEpoch: Math.floor(at / 1000),
    computedAtUtc: new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z"),
    reasonCodes: ["bench"],
  };
  return { p, planId: computePlanId(p), args: Object.entries(encodeHarvestProposal(p)).flat() };
}

/** XADD arguments of an EXECUTE plan on apply.plan, as the Apply Layer publishes it (for P3.3 alone). */
export function executePlanArgs(planId: string, symbol: string, action: string, killScore: number): string[] {
  const fields = encodeApplyPlan({
    planId,
    symbol,
    action,
    killScore,
    kRegimeFlip: 0,
    kSigmaSpike: 0,
    kTsDrop: 0,
    kAgePenalty: 0,
    newSlProposed: null,
    rNet: 1,
    decision: "EXECUTE",
    reasonCodes: [],
    steps: [],
    closeQty: null,
    price: null,
    timestamp: Date.now() / 1000,
    reduceOnly: true,
  });
  return Object.entries(fields).flat();
}

export function xaddProposal(r: Redis, args: readonly string[]): Promise<string | null> {
  return r.xadd(streams.harvestProposal, "*", ...args);
}

/** Write the proposal as a hash with one HSET, as the existing publishers do. */
export function hsetProposal(r: Redis, p: HarvestProposal): Promise<number> {
  return r.hset(keys.harvestProposal(p.symbol), encodeHarvestProposal(p));
}

/** Paper position and ledger set to `amt` (as an operator's `quantumctl ledger set` would). */
export async function seedPosition(r: Redis, s: BenchSymbol, amt: string): Promise<void> {
  await seedPaperPosition(r, s.symbol, amt, s.mark);
  await seedLedger(r, s.symbol, amt);
}

/** P3.3's ledger of `symbol` set to `amt` (as an operator's `quantumctl ledger set` would). */
export async function seedLedger(r: Redis, symbol: string, amt: string): Promise<void> {
  await r.hset(
    keys.positionLedger(symbol),
    encodePositionLedgerPatch({ lastKnownAmt: amt, updatedAt: Date.now() / 1000, source: "bench" }),
  );
}

/** Until P3.3's snapshot shows `amt` (taken after `sinceSec`) and the ledger agrees. */
export async function waitConsistent(r: Redis, symbol: string, amt: string, sinceSec: number): Promise<void> {
  await until(
    async () => {
      const [snap, ts] = await r.hmget(keys.positionSnapshot(symbol), "position_amt", "ts_epoch");
      const ledger = await r.hget(keys.positionLedger(symbol), "last_known_amt");
      return Number(snap) === Number(amt) && Number(ts) >= sinceSec && Number(ledger) === Number(amt);
    },
    10_000,
    `P3.3 snapshot of ${symbol} = ${amt}`,
  );
}
