import {
  encodeHarvestProposal,
  encodePositionLedgerPatch,
  type HarvestProposal,
  keys,
  streams,
} from "@quantum/contracts";
import { DEFAULT_PAPER_RULES, seedPaperPosition, setPaperMarkPrice } from "@quantum/exchange";
import { type Logger, xaddCapped } from "@quantum/runtime";
import { Decimal } from "decimal.js";
import type { Redis } from "ioredis";
import { applyLayerInProduction } from "./guard.js";

/**
 * The demo proposal feeder: keeps paper positions open, moves their mark prices a little, and writes a
 * fresh harvest proposal per symbol every tick, mostly closes with a low kill score plus some HOLDs,
 * UPDATE_SLs and high kill scores, so every planning gate shows up in the demo stack. Dev/demo only.
 */

/** A deterministic random source in [0, 1) (mulberry32), so tests and demos can replay a run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface FeederSymbol {
  readonly symbol: string;
  /** Mark price a flat symbol is seeded at. */
  readonly basePrice: string;
  /** Size of a seeded position (absolute; the sign is random). */
  readonly seedQty: string;
}

/** Demo defaults for the paper symbols. */
export const DEFAULT_FEEDER_SYMBOLS: Readonly<Record<string, FeederSymbol>> = {
  BTCUSDT: { symbol: "BTCUSDT", basePrice: "60000", seedQty: "0.050" },
  ETHUSDT: { symbol: "ETHUSDT", basePrice: "3000", seedQty: "0.800" },
  BNBUSDT: { symbol: "BNBUSDT", basePrice: "550", seedQty: "4.00" },
  SOLUSDT: { symbol: "SOLUSDT", basePrice: "150", seedQty: "20" },
  XRPUSDT: { symbol: "XRPUSDT", basePrice: "0.6000", seedQty: "4000.0" },
  DOGEUSDT: { symbol: "DOGEUSDT", basePrice: "0.15000", seedQty: "20000" },
};

/** Weighted action mix of the demo (sums to 1). */
export const ACTION_WEIGHTS: ReadonlyArray<readonly [string, number]> = [
  ["PARTIAL_50", 0.3],
  ["PARTIAL_75", 0.2],
  ["FULL_CLOSE_PROPOSED", 0.15],
  ["HOLD", 0.2],
  ["UPDATE_SL", 0.15],
];

function pick(rng: () => number): string {
  let r = rng();
  for (const [action, w] of ACTION_WEIGHTS) {
    if (r < w) return action;
    r -= w;
  }
  return "PARTIAL_50";
}

/** Kill score: 75 % low (0.05–0.55), 15 % warning band (0.60–0.79), 10 % critical (0.80–0.99). */
export function pickKillScore(rng: () => number): number {
  const band = rng();
  const u = rng();
  const raw = band < 0.75 ? 0.05 + u * 0.5 : band < 0.9 ? 0.6 + u * 0.19 : 0.8 + u * 0.19;
  return Math.round(raw * 1e6) / 1e6;
}

function tickOf(symbol: string): string {
  return DEFAULT_PAPER_RULES.find((r) => r.symbol === symbol)?.tickSize ?? "0.01";
}

/** `value` on the symbol's tick, printed with the tick's decimals. */
export function onTick(value: Decimal.Value, symbol: string): string {
  const tick = new Decimal(tickOf(symbol));
  return new Decimal(value)
    .div(tick)
    .toDecimalPlaces(0, Decimal.ROUND_HALF_UP)
    .mul(tick)
    .toFixed(tick.decimalPlaces());
}

/** One proposal for a symbol whose signed position is `positionAmt` at `markPrice`. */
export function nextProposal(
  symbol: string,
  positionAmt: string,
  markPrice: string,
  rng: () => number,
  now: Date,
): HarvestProposal {
  const action = pick(rng);
  const long = new Decimal(positionAmt).gte(0);
  const newSl =
    action === "UPDATE_SL" ? Number(onTick(new Decimal(markPrice).mul(long ? 0.98 : 1.02), symbol)) : null;
  const k = () => Math.round(rng() * 1e4) / 1e4;
  return {
    symbol,
    action,
    calibrated: false,
    killScore: pickKillScore(rng),
    kRegimeFlip: k(),
    kSigmaSpike: k(),
    kTsDrop: k(),
    kAgePenalty: k(),
    newSlProposed: newSl,
    rNet: Math.round((rng() * 4 - 1) * 1e4) / 1e4,
    lastUpdateEpoch: Math.floor(now.getTime() / 1000),
    computedAtUtc: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
    reasonCodes: ["demo_feeder"],
  };
}

export interface FeederTickOptions {
  symbols: readonly FeederSymbol[];
  rng: () => number;
  now?: Date;
  /** Also XADD each proposal to quantum:stream:harvest.proposal. */
  stream?: boolean;
}

export interface FeederTickResult {
  /** Symbols that were flat and got a new paper position. */
  seeded: string[];
  proposals: HarvestProposal[];
}

/** Seed flat paper positions, move the marks, write one fresh proposal hash per symbol. */
export async function feederTick(redis: Redis, o: FeederTickOptions): Promise<FeederTickResult> {
  const now = o.now ?? new Date();
  const seeded: string[] = [];
  const proposals: HarvestProposal[] = [];
  for (const s of o.symbols) {
    const [amtRaw = null, markRaw = null] = await redis.hmget(
      keys.paperPosition(s.symbol),
      "position_amt",
      "mark_price",
    );
    let amt: string = amtRaw ?? "0";
    const mark0: string = markRaw !== null && new Decimal(markRaw).gt(0) ? markRaw : s.basePrice;
    if (new Decimal(amt).isZero()) {
      amt = o.rng() < 0.5 ? s.seedQty : `-${s.seedQty}`;
      await seedPaperPosition(redis, s.symbol, amt, onTick(mark0, s.symbol));
      // The demo opens the position outside this system, like the strategy's entries do; record it in the
      // P3.3 ledger too, or every later plan for the symbol is denied as a side mismatch.
      await redis.hset(
        keys.positionLedger(s.symbol),
        encodePositionLedgerPatch({
          lastKnownAmt: amt,
          updatedAt: now.getTime() / 1000,
          source: "demo_feeder",
        }),
      );
      seeded.push(s.symbol);
    }
    const mark = onTick(new Decimal(mark0).mul(1 + (o.rng() - 0.5) * 0.004), s.symbol);
    await setPaperMarkPrice(redis, s.symbol, mark);
    const p = nextProposal(s.symbol, amt, mark, o.rng, now);
    const fields = encodeHarvestProposal(p);
    await redis
      .multi()
      .del(keys.harvestProposal(s.symbol))
      .hset(keys.harvestProposal(s.symbol), fields)
      .exec();
    if (o.stream === true) await xaddCapped(redis, streams.harvestProposal, fields);
    proposals.push(p);
  }
  return { seeded, proposals };
}

export interface FeederOptions extends Omit<FeederTickOptions, "now"> {
  redis: Redis;
  intervalMs: number;
  logger: Logger;
}

/** Run `feederTick` every intervalMs until stopped. */
export function startFeeder(o: FeederOptions): { stop(): Promise<void> } {
  let running = true;
  let wake: (() => void) | null = null;
  const loop = (async () => {
    while (running) {
      try {
        if (await applyLayerInProduction(o.redis)) {
          o.logger.error({}, "apply layer runs in production: the demo feeder writes nothing");
        } else {
          const r = await feederTick(o.redis, o);
          o.logger.info(
            { seeded: r.seeded, proposals: r.proposals.map((p) => `${p.symbol}:${p.action}:${p.killScore}`) },
            "proposals written",
          );
        }
      } catch (err) {
        o.logger.warn({ err }, "feeder tick failed");
      }
      if (!running) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, o.intervalMs);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  })();
  return {
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}
