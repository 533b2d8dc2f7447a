import { keyPatterns, keys, streams } from "@quantum/contracts";
import { eventually, type FakeBinance } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { type Fields, readStream } from "./traffic.js";

/** Order endpoints: a POST here may create an order. */
const ORDER_POSTS = new Set(["/fapi/v1/order", "/fapi/v1/algoOrder"]);
/**
 * Binance "-4116 ClientOrderId is duplicated": a second order was sent while the first was still open. (A
 * client id is unique only among open orders: a filled MARKET order re-sent fills again, which the order
 * and fill counts below catch.)
 */
const DUPLICATE_CLIENT_ID = -4116;

export interface ExactlyOnceAudit {
  /** Distinct plan_ids published to apply.plan. */
  plans: number;
  /** plan_ids published more than once. */
  duplicatePlans: string[];
  results: number;
  /** plan_ids with no result. */
  lostPlans: string[];
  /** plan_ids with more than one result. */
  duplicateResults: string[];
  /** Results whose plan was never published. */
  orphanResults: string[];
  /** Orders the venue holds. */
  orders: number;
  /** POSTs to the order endpoints. */
  orderRequests: number;
  /**
   * Client ids for which a second order was attempted: more than one order at the venue, more than one
   * POST that may have created one (answered 200, 5xx or not at all), or any POST refused as a duplicate.
   */
  duplicateOrders: string[];
  /** A result and the venue disagree: an order exists but the result says not executed, or the reverse. */
  untruthful: string[];
  byDecision: Record<string, number>;
  byReason: Record<string, number>;
  /** Details of the internal_error results (first 40 chars), counted. */
  internalErrors: Record<string, number>;
}

function count<T>(items: Iterable<T>, key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return m;
}

function planIdOfClientId(clientOrderId: string): string | null {
  const m = /^qp3-[cs]-([0-9a-f]{16})$/.exec(clientOrderId);
  return m === null ? null : (m[1] as string);
}

/**
 * The exactly-once audit: every plan published once, exactly one result per plan, at most one
 * order per plan at the venue (and no second attempt), and every result agreeing with the venue.
 */
export async function auditExactlyOnce(
  r: Redis,
  fake: FakeBinance,
  /** Entry ids a test injected into apply.plan / apply.result itself (not the Apply Layer's). */
  injected: { plans?: ReadonlySet<string>; results?: ReadonlySet<string> } = {},
): Promise<ExactlyOnceAudit> {
  const planEntries = (await readStream(r, streams.applyPlan))
    .filter(([id]) => injected.plans?.has(id) !== true)
    .map(([, f]) => f);
  const resultEntries = (await readStream(r, streams.applyResult))
    .filter(([id]) => injected.results?.has(id) !== true)
    .map(([, f]) => f);
  const planCounts = count(planEntries, (f) => f.plan_id ?? "");
  const resultCounts = count(resultEntries, (f) => f.plan_id ?? "");
  const resultOf = new Map<string, Fields>();
  for (const f of resultEntries) if (f.plan_id !== undefined) resultOf.set(f.plan_id, f);

  const orders = fake.orders();
  const ordersPerClient = count(orders, (o) => o.clientOrderId);
  const posts = fake.requests().filter((q) => q.method === "POST" && ORDER_POSTS.has(q.path));
  const clientIdOf = (p: Record<string, string>) => p.newClientOrderId ?? p.clientAlgoId ?? "";
  const mayHaveCreated = count(
    posts.filter((q) => q.status === null || q.status === 200 || q.status >= 500),
    (q) => clientIdOf(q.params),
  );
  const duplicateOrders = new Set<string>();
  for (const [id, n] of ordersPerClient) if (n > 1 || fake.counts(id).fills > 1) duplicateOrders.add(id);
  for (const [id, n] of mayHaveCreated) if (n > 1) duplicateOrders.add(id);
  for (const q of posts) if (q.code === DUPLICATE_CLIENT_ID) duplicateOrders.add(clientIdOf(q.params));

  const untruthful: string[] = [];
  for (const o of orders) {
    const planId = planIdOfClientId(o.clientOrderId);
    const res = planId === null ? undefined : resultOf.get(planId);
    if (res === undefined) {
      untruthful.push(`${o.clientOrderId}: order ${o.orderId} at the venue, no result`);
    } else if (res.executed !== "True" || res.order_id !== String(o.orderId)) {
      untruthful.push(
        `${o.clientOrderId}: order ${o.orderId} at the venue, result ${res.decision} ${res.reason} order_id=${res.order_id ?? ""}`,
      );
    }
  }
  for (const [planId, res] of resultOf) {
    if (res.executed === "True" && (ordersPerClient.get(res.client_order_id ?? "") ?? 0) === 0) {
      untruthful.push(`${planId}: result says executed, the venue has no order ${res.client_order_id}`);
    }
  }

  const byDecision: Record<string, number> = {};
  const byReason: Record<string, number> = {};
  const internalErrors: Record<string, number> = {};
  for (const f of resultEntries) {
    byDecision[f.decision ?? "?"] = (byDecision[f.decision ?? "?"] ?? 0) + 1;
    byReason[f.reason ?? "?"] = (byReason[f.reason ?? "?"] ?? 0) + 1;
    if (f.reason === "internal_error") {
      const d = (f.detail ?? "").slice(0, 40);
      internalErrors[d] = (internalErrors[d] ?? 0) + 1;
    }
  }
  return {
    plans: planCounts.size,
    duplicatePlans: [...planCounts].filter(([, n]) => n > 1).map(([id]) => id),
    results: resultEntries.length,
    lostPlans: [...planCounts.keys()].filter((id) => !resultCounts.has(id)),
    duplicateResults: [...resultCounts].filter(([, n]) => n > 1).map(([id]) => id),
    orphanResults: [...resultCounts.keys()].filter((id) => !planCounts.has(id)),
    orders: orders.length,
    orderRequests: posts.length,
    duplicateOrders: [...duplicateOrders],
    untruthful,
    byDecision,
    byReason,
    internalErrors,
  };
}

/** Sum of `decision:<D>` over every P3.5 minute bucket. */
export async function p35BucketDecisions(r: Redis): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  let cursor = "0";
  do {
    const [next, found] = await r.scan(cursor, "MATCH", keyPatterns.p35Bucket, "COUNT", 1000);
    cursor = next;
    for (const key of found) {
      const h = await r.hgetall(key);
      for (const [field, value] of Object.entries(h)) {
        if (!field.startsWith("decision:")) continue;
        const d = field.slice("decision:".length);
        out[d] = (out[d] ?? 0) + Number(value);
      }
    }
  } while (cursor !== "0");
  return out;
}

/** Wait until P3.5 has counted every result, then return its counts (status and buckets). */
export async function p35Settled(
  r: Redis,
  expected: number,
  timeoutMs = 30_000,
): Promise<{ processedTotal: number; buckets: Record<string, number> }> {
  return eventually(
    async () => {
      const processedTotal = Number(await r.hget(keys.p35Status, "processed_total"));
      if (processedTotal < expected) throw new Error(`p35 processed ${processedTotal} of ${expected}`);
      return { processedTotal, buckets: await p35BucketDecisions(r) };
    },
    { timeoutMs, intervalMs: 200, message: "p35 counted every result" },
  );
}

/** Symbols whose P3.3 ledger (last_known_amt) differs from the venue's position. */
export async function ledgerDrift(
  r: Redis,
  fake: FakeBinance,
  symbols: readonly string[],
): Promise<string[]> {
  const out: string[] = [];
  for (const s of symbols) {
    const ledger = await r.hget(keys.positionLedger(s), "last_known_amt");
    const venue = fake.position(s)?.positionAmt ?? "0";
    if (ledger === null || Number(ledger) !== Number(venue))
      out.push(`${s}: ledger ${ledger} venue ${venue}`);
  }
  return out;
}

/** Wait until every ledger matches the venue (P3.3 applies results asynchronously). */
export async function ledgersSettled(
  r: Redis,
  fake: FakeBinance,
  symbols: readonly string[],
  timeoutMs = 20_000,
): Promise<string[]> {
  try {
    await eventually(
      async () => {
        const drift = await ledgerDrift(r, fake, symbols);
        if (drift.length > 0) throw new Error(drift.join("; "));
        return true;
      },
      { timeoutMs, intervalMs: 200 },
    );
    return [];
  } catch {
    return ledgerDrift(r, fake, symbols);
  }
}
