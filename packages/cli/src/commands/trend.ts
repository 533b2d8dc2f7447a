import { keys, P35_FIELD_PREFIX, p35DayId } from "@quantum/contracts";
import { DECISION_ORDER, pct, SUCCESS_REASON } from "@quantum/insight";
import type { Redis } from "ioredis";

const DAY_MS = 86_400_000;
/** Gates listed by `trend`: the largest of the current period, then any that was among the largest before. */
export const TREND_TOP_GATES = 10;

export interface PeriodTotals {
  /** First and last UTC day of the period (`YYYYMMDD`). */
  readonly from: string;
  readonly to: string;
  /** Days of the period that have a rollup. */
  readonly daysWithRollup: number;
  readonly missingDays: readonly string[];
  /** All results of the period (sum of the decision counts). */
  readonly total: number;
}

export interface TrendCount {
  readonly count: number;
  /** Percent of the period's results (two decimals). */
  readonly pct: number;
}

export interface TrendRow {
  readonly current: TrendCount;
  readonly previous: TrendCount;
  /** current.pct − previous.pct, percentage points (two decimals). */
  readonly changePp: number;
  /** Relative change of the count in percent (two decimals); null when the previous count was 0. */
  readonly countChangePct: number | null;
}

export interface TrendResult {
  readonly days: number;
  readonly current: PeriodTotals;
  readonly previous: PeriodTotals;
  readonly decisions: ReadonlyArray<TrendRow & { readonly decision: string }>;
  readonly gates: ReadonlyArray<TrendRow & { readonly reason: string }>;
}

interface PeriodSums {
  readonly totals: PeriodTotals;
  readonly decisions: Map<string, number>;
  readonly reasons: Map<string, number>;
}

function addField(target: Map<string, number>, name: string, value: string): void {
  const n = Number(value);
  if (/^\d{1,15}$/.test(value) && n > 0) target.set(name, (target.get(name) ?? 0) + n);
}

/** Sum the `decision:` and `reason:` fields of the rollups of `dayIds` (oldest first). */
function sumPeriod(dayIds: readonly string[], hashes: ReadonlyArray<Record<string, string>>): PeriodSums {
  const decisions = new Map<string, number>();
  const reasons = new Map<string, number>();
  const missingDays: string[] = [];
  hashes.forEach((h, i) => {
    if (Object.keys(h).length === 0) missingDays.push(dayIds[i]!);
    for (const [field, v] of Object.entries(h)) {
      if (field.startsWith(P35_FIELD_PREFIX.decision))
        addField(decisions, field.slice(P35_FIELD_PREFIX.decision.length), v);
      else if (field.startsWith(P35_FIELD_PREFIX.reason))
        addField(reasons, field.slice(P35_FIELD_PREFIX.reason.length), v);
    }
  });
  const total = [...decisions.values()].reduce((s, n) => s + n, 0);
  return {
    totals: {
      from: dayIds[0]!,
      to: dayIds[dayIds.length - 1]!,
      daysWithRollup: dayIds.length - missingDays.length,
      missingDays,
      total,
    },
    decisions,
    reasons,
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function row(cur: number, curTotal: number, prev: number, prevTotal: number): TrendRow {
  const current = { count: cur, pct: pct(cur, curTotal) };
  const previous = { count: prev, pct: pct(prev, prevTotal) };
  const curShare = curTotal > 0 ? (cur / curTotal) * 100 : 0;
  const prevShare = prevTotal > 0 ? (prev / prevTotal) * 100 : 0;
  return {
    current,
    previous,
    changePp: round2(curShare - prevShare),
    countChangePct: prev > 0 ? round2(((cur - prev) / prev) * 100) : null,
  };
}

function largest(m: ReadonlyMap<string, number>, n: number): string[] {
  return [...m.entries()]
    .filter(([r]) => r !== SUCCESS_REASON)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, n)
    .map(([r]) => r);
}

/**
 * `trend [--days N]`: the decision mix and the top gates of the last N complete UTC days against the N days
 * before, from the daily rollups P3.5 writes (`quantum:p35:day:<YYYYMMDD>`). Shares are of each period's
 * results, changes in percentage points.
 */
export async function trend(
  redis: Redis,
  opts: { days?: number; nowMs?: number } = {},
): Promise<TrendResult> {
  const days = opts.days ?? 7;
  const today = Math.floor((opts.nowMs ?? Date.now()) / DAY_MS) * DAY_MS;
  const ids = Array.from({ length: 2 * days }, (_, i) => p35DayId(today - (2 * days - i) * DAY_MS));
  const pipe = redis.pipeline();
  for (const id of ids) pipe.hgetall(keys.p35Day(id));
  const hashes = ((await pipe.exec()) ?? []).map(([err, h]) => {
    if (err) throw err;
    return (h ?? {}) as Record<string, string>;
  });
  const previous = sumPeriod(ids.slice(0, days), hashes.slice(0, days));
  const current = sumPeriod(ids.slice(days), hashes.slice(days));
  const ct = current.totals.total;
  const pt = previous.totals.total;
  const known = DECISION_ORDER.filter((d) => current.decisions.has(d) || previous.decisions.has(d));
  const others = [...new Set([...current.decisions.keys(), ...previous.decisions.keys()])]
    .filter((d) => !(DECISION_ORDER as readonly string[]).includes(d))
    .sort();
  const gateNames = [
    ...new Set([...largest(current.reasons, TREND_TOP_GATES), ...largest(previous.reasons, TREND_TOP_GATES)]),
  ].sort(
    (a, b) => (current.reasons.get(b) ?? 0) - (current.reasons.get(a) ?? 0) || (a < b ? -1 : a > b ? 1 : 0),
  );
  return {
    days,
    current: current.totals,
    previous: previous.totals,
    decisions: [...known, ...others].map((decision) => ({
      decision,
      ...row(current.decisions.get(decision) ?? 0, ct, previous.decisions.get(decision) ?? 0, pt),
    })),
    gates: gateNames.map((reason) => ({
      reason,
      ...row(current.reasons.get(reason) ?? 0, ct, previous.reasons.get(reason) ?? 0, pt),
    })),
  };
}
