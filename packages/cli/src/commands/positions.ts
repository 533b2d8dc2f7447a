import {
  decodePositionLedger,
  decodePositionSnapshot,
  keyPatterns,
  keys,
  symbolFromKey,
} from "@quantum/contracts";
import { numberField } from "@quantum/insight";
import { Decimal } from "decimal.js";
import type { Redis } from "ioredis";
import { reportedAllowlist } from "./symbols.js";

/** P3.3's defaults for the snapshot staleness and the cooldown after a fill. */
export const DEFAULT_P33_STALE_THRESHOLD_SEC = 10;
export const DEFAULT_P33_COOLDOWN_SEC = 15;

export interface P33Timing {
  readonly staleThresholdSec: number;
  readonly cooldownSec: number;
  /** Where the values came from. */
  readonly source: "p33 status" | "environment" | "default";
}

function positiveNumber(v: string | undefined): number | null {
  if (v === undefined || v.trim() === "") return null;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/**
 * P3.3's staleness threshold and cooldown: from its status hash (it reports the values it runs with), else
 * P33_STALE_THRESHOLD_SEC / P33_COOLDOWN_SEC in the environment, else P3.3's defaults (10 s, 15 s).
 */
export async function p33Timing(
  redis: Redis,
  env: Readonly<Record<string, string | undefined>>,
): Promise<P33Timing> {
  const raw = await redis.hgetall(keys.serviceStatus("position-state-brain"));
  const stale = numberField(raw, "stale_threshold_sec");
  const cooldown = numberField(raw, "cooldown_sec");
  if (stale !== null && cooldown !== null) {
    return { staleThresholdSec: stale, cooldownSec: cooldown, source: "p33 status" };
  }
  const envStale = positiveNumber(env.P33_STALE_THRESHOLD_SEC);
  const envCooldown = positiveNumber(env.P33_COOLDOWN_SEC);
  return {
    staleThresholdSec: envStale ?? DEFAULT_P33_STALE_THRESHOLD_SEC,
    cooldownSec: envCooldown ?? DEFAULT_P33_COOLDOWN_SEC,
    source: envStale !== null || envCooldown !== null ? "environment" : "default",
  };
}

export interface PositionRow {
  readonly symbol: string;
  /** position_amt of the exchange snapshot. */
  readonly exchangeAmt: string | null;
  readonly ledgerAmt: string | null;
  /** exchange − ledger; null when either is missing. */
  readonly drift: string | null;
  readonly snapshotAgeSec: number | null;
  readonly stale: boolean;
  /** The reconcile hold's value; null when there is none. */
  readonly hold: string | null;
  /** Seconds until the symbol's cooldown ends; 0 when none. */
  readonly cooldownRemainingSec: number;
}

export interface PositionsResult {
  readonly symbols: "allowlist" | "keys found";
  readonly timing: P33Timing;
  readonly rows: readonly PositionRow[];
}

async function symbolsWithKeys(redis: Redis): Promise<string[]> {
  const found = new Set<string>();
  for (const pattern of [keyPatterns.positionSnapshot, keyPatterns.positionLedger]) {
    let cursor = "0";
    do {
      const [next, batch] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
      cursor = next;
      for (const k of batch) {
        const s = symbolFromKey(k, pattern);
        if (s !== null) found.add(s);
      }
    } while (cursor !== "0" && found.size < 10_000);
  }
  return [...found].sort();
}

/** Epoch ms of the last fill (the cooldown key holds epoch ms; epoch seconds are accepted too). */
function lastFillMs(raw: string | null): number | null {
  if (raw === null || raw.trim() === "") return null;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) return null;
  return n < 1e11 ? n * 1000 : n;
}

/**
 * `positions`: every allowlisted symbol (the Apply Layer's reported allowlist; without one, every symbol
 * with a snapshot or ledger): exchange amount, ledger amount, drift, snapshot age, reconcile hold and the
 * cooldown left.
 */
export async function positions(
  redis: Redis,
  opts: { env: Readonly<Record<string, string | undefined>>; nowMs?: number },
): Promise<PositionsResult> {
  const allowlist = await reportedAllowlist(redis);
  const symbols = allowlist ?? (await symbolsWithKeys(redis));
  const timing = await p33Timing(redis, opts.env);
  const nowMs = opts.nowMs ?? Date.now();
  const pipe = redis.pipeline();
  for (const s of symbols) {
    pipe.hgetall(keys.positionSnapshot(s));
    pipe.hgetall(keys.positionLedger(s));
    pipe.get(keys.reconcileHold(s));
    pipe.get(keys.cooldownLastExecTs(s));
  }
  const replies = (await pipe.exec()) ?? [];
  const value = (i: number): unknown => {
    const r = replies[i];
    if (r === undefined) throw new Error("missing pipeline reply");
    if (r[0] !== null) throw r[0];
    return r[1];
  };
  const rows = symbols.map((symbol, i): PositionRow => {
    const snap = decodePositionSnapshot(value(4 * i));
    const ledger = decodePositionLedger(value(4 * i + 1));
    const hold = value(4 * i + 2) as string | null;
    const last = lastFillMs(value(4 * i + 3) as string | null);
    const exchangeAmt = snap.ok ? snap.value.positionAmt : null;
    const ledgerAmt = ledger.ok ? ledger.value.lastKnownAmt : null;
    const snapshotAgeSec = snap.ok ? Math.max(0, nowMs / 1000 - snap.value.tsEpoch) : null;
    const cooldownLeft = last === null ? 0 : timing.cooldownSec - (nowMs - last) / 1000;
    return {
      symbol,
      exchangeAmt,
      ledgerAmt,
      drift:
        exchangeAmt !== null && ledgerAmt !== null
          ? new Decimal(exchangeAmt).minus(ledgerAmt).toFixed()
          : null,
      snapshotAgeSec,
      stale: snapshotAgeSec === null || snapshotAgeSec > timing.staleThresholdSec,
      hold: hold === null || hold === "" ? null : hold,
      cooldownRemainingSec: Math.max(0, Number(cooldownLeft.toFixed(3))),
    };
  });
  return { symbols: allowlist !== null ? "allowlist" : "keys found", timing, rows };
}
