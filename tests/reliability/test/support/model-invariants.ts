import { keys, streams } from "@quantum/contracts";
import { type FakeOrder, type FakeRequestRecord, readStream } from "@quantum/testkit";
import { Decimal } from "decimal.js";
import { auditExactlyOnce } from "./audit.js";
import { CLOSE_SHARE } from "./model-commands.js";
import { MODEL_SYMBOLS, type ModelWorld, START_AMT } from "./model-world.js";

/**
 * The invariants of a model run, judged after it settled from what the venue recorded (orders, fills, the
 * request log with arrival times) and what Redis executed (MONITOR: every SET of a control key and every run
 * of the submit gate, in Redis's serial order, with the server's clock, which is the machine clock the fake's
 * arrival times use too). Each returns the violations it found, in words.
 */

/** Binance "-2022 ReduceOnly Order is rejected": the reduce-only order was larger than the position. */
const REDUCE_ONLY_REJECTED = -2022;
const ORDER_PATHS = new Set(["/fapi/v1/order", "/fapi/v1/algoOrder"]);
/** A close order (chunk 0 has no suffix) or a new protective stop of a plan; restores are `qp3-r-`. */
const GATED_ID = /^qp3-([cs])-([0-9a-f]{16})(?:-(\d+))?$/;

interface GatePass {
  readonly atMs: number;
  readonly clientOrderId: string;
  /** The kill switch was off and the trading state not HALTED when the gate ran. */
  readonly open: boolean;
}

/** A kill-switch value halts unless it is one of the "off" spellings (the gate's rule). */
function killHalts(value: string | null): boolean {
  return value !== null && !["false", "0", "no", "off"].includes(value.toLowerCase());
}

/**
 * Replay the control keys in Redis order and list every submit-gate run (beginSubmit: five keys, the fourth
 * the in-flight ZSET) with the client order id it was run for and whether the controls let it through.
 */
export function gatePasses(w: ModelWorld): GatePass[] {
  let kill: string | null = "false";
  let state: string | null = "ACTIVE";
  const out: GatePass[] = [];
  for (const { atMs, args } of w.monitored) {
    const cmd = (args[0] ?? "").toLowerCase();
    if (cmd === "set") {
      if (args[1] === keys.killSwitch) kill = args[2] ?? null;
      if (args[1] === keys.tradingState) state = args[2] ?? null;
      continue;
    }
    if (args[2] !== "5" || args[6] !== keys.applySubmitting) continue;
    const fields = args.slice(13);
    const at = fields.indexOf("client_order_id");
    if (at < 0 || at % 2 !== 0) continue;
    out.push({
      atMs,
      clientOrderId: fields[at + 1] ?? "",
      open: !killHalts(kill) && state !== "HALTED",
    });
  }
  return out;
}

const clientIdOf = (q: FakeRequestRecord): string => q.params.newClientOrderId ?? q.params.clientAlgoId ?? "";

/**
 * No order request starts while the kill switch is on or the state is HALTED: every POST of a close order or
 * a new stop that reached the venue was let through by its own submit-gate run while the controls were open
 * (one open run per POST), and nothing about that order — no lookup by its client id — reached the venue
 * between that run and the POST (the gate is the last step before the request). A POST that passed the gate
 * before a flip and arrived after it is allowed. Restores of a cancelled stop (`qp3-r-`) are deliberately not
 * gated: they put back protection that existed.
 */
export function checkGate(w: ModelWorld): string[] {
  const passes = gatePasses(w);
  const requests = w.fake.requests();
  const out: string[] = [];
  const posts = requests.filter((q) => q.method === "POST" && ORDER_PATHS.has(q.path));
  const seen = new Map<string, number>();
  for (const post of posts) {
    const id = clientIdOf(post);
    if (!GATED_ID.test(id)) continue;
    const k = seen.get(id) ?? 0;
    seen.set(id, k + 1);
    // Redis logs in microseconds, the fake in whole milliseconds: a pass in the POST's millisecond counts.
    const before = passes.filter((p) => p.clientOrderId === id && p.atMs < post.atMs + 1);
    const open = before.filter((p) => p.open);
    if (open.length < k + 1) {
      const shut = before.length - open.length;
      out.push(
        `POST ${id} #${k + 1} at ${post.atMs}: ${open.length} open gate run(s) before it` +
          (shut > 0 ? `, ${shut} run(s) while the kill switch was on or HALTED` : ""),
      );
      continue;
    }
    const last = open[open.length - 1] as GatePass;
    const lookups = requests.filter(
      (q) =>
        q.method === "GET" &&
        (q.params.origClientOrderId === id || q.params.clientAlgoId === id) &&
        q.atMs > Math.floor(last.atMs) &&
        q.atMs < post.atMs,
    );
    if (lookups.length > 0) {
      out.push(`POST ${id}: a lookup reached the venue after its gate run (${last.atMs}) and before it`);
    }
  }
  return out;
}

/** Exactly one plan and one result per proposal; no second order or fill for any client order id. */
export async function checkExactlyOnce(w: ModelWorld): Promise<string[]> {
  const out: string[] = [];
  const audit = await auditExactlyOnce(w.r, w.fake);
  if (audit.duplicatePlans.length > 0) out.push(`plans published twice: ${audit.duplicatePlans}`);
  if (audit.duplicateResults.length > 0) out.push(`plans with two results: ${audit.duplicateResults}`);
  if (audit.orphanResults.length > 0) out.push(`results without a plan: ${audit.orphanResults}`);
  if (audit.duplicateOrders.length > 0) out.push(`second order or fill for: ${audit.duplicateOrders}`);
  const results = (await readStream(w.r, streams.applyResult)).map(([, f]) => f);
  for (const p of w.plans) {
    const n = results.filter((f) => f.plan_id === p.planId).length;
    if (n !== 1) out.push(`${p.planId} (${p.symbol} ${p.action}): ${n} results`);
  }
  for (const o of w.fake.orders()) {
    const c = w.fake.counts(o.clientOrderId);
    if (c.fills > 1) out.push(`${o.clientOrderId}: ${c.fills} fills`);
  }
  return out;
}

/** Filled close orders in the order the venue filled them (MARKET orders fill as they are created). */
function closeFills(orders: readonly FakeOrder[]): Array<{ order: FakeOrder; planId: string }> {
  const out: Array<{ order: FakeOrder; planId: string }> = [];
  for (const o of [...orders].sort((a, b) => a.orderId - b.orderId)) {
    const m = GATED_ID.exec(o.clientOrderId);
    if (o.algo || o.status !== "FILLED" || m === null || m[1] !== "c") continue;
    out.push({ order: o, planId: m[2] as string });
  }
  return out;
}

/**
 * A permit sized before a fill is never spent after it: every plan's fills together stay within the quantity
 * its P3.3 permit allowed and within the position they met, and the position its first fill met is the one
 * the permit was sized from. Per symbol, the position left is at least what the executed closes allow
 * (two PARTIAL_50 leave at least 25 %).
 */
export async function checkSizing(w: ModelWorld): Promise<string[]> {
  const out: string[] = [];
  const position = new Map<string, Decimal>(MODEL_SYMBOLS.map((s) => [s, new Decimal(START_AMT)]));
  const floor = new Map<string, Decimal>(MODEL_SYMBOLS.map((s) => [s, new Decimal(START_AMT)]));
  const firstMet = new Map<string, Decimal>();
  const filled = new Map<string, Decimal>();
  for (const { order, planId } of closeFills(w.fake.orders())) {
    const before = position.get(order.symbol) ?? new Decimal(0);
    const qty = new Decimal(order.executedQty);
    if (!firstMet.has(planId)) {
      firstMet.set(planId, before);
      const plan = w.plans.find((p) => p.planId === planId);
      const share = new Decimal(CLOSE_SHARE[plan?.action ?? ""] ?? "1");
      const f = floor.get(order.symbol) ?? new Decimal(0);
      floor.set(order.symbol, f.mul(new Decimal(1).minus(share)));
    }
    filled.set(planId, (filled.get(planId) ?? new Decimal(0)).plus(qty));
    position.set(order.symbol, before.minus(qty));
  }
  for (const [planId, total] of filled) {
    const permit = w.permits.get(planId);
    const met = firstMet.get(planId) as Decimal;
    if (permit === undefined || !permit.granted || permit.safeQty === null || permit.basisAmt === null) {
      out.push(`${planId}: filled ${total} without an allowing permit`);
      continue;
    }
    if (total.gt(permit.safeQty))
      out.push(`${planId}: filled ${total}, the permit allowed ${permit.safeQty}`);
    if (total.gt(met.abs())) out.push(`${planId}: filled ${total} of a position of ${met}`);
    if (!met.eq(permit.basisAmt)) {
      out.push(`${planId}: permit sized from a position of ${permit.basisAmt}, spent against ${met}`);
    }
  }
  // Only this run's orders move the positions, so a reduce-only refusal means an order was built for a
  // position that was no longer there.
  for (const q of w.fake.requests()) {
    if (q.method === "POST" && q.path === "/fapi/v1/order" && q.code === REDUCE_ONLY_REJECTED) {
      out.push(`${clientIdOf(q)}: built for a position that was gone (${q.params.quantity} refused -2022)`);
    }
  }
  for (const s of MODEL_SYMBOLS) {
    const venue = new Decimal(w.fake.position(s)?.positionAmt ?? "0");
    const min = floor.get(s) as Decimal;
    if (venue.lt(min)) out.push(`${s}: ${venue} left, the executed closes allow no less than ${min}`);
  }
  return out;
}

/**
 * A symbol that ever had a protective stop at the venue still has a working one (an open STOP_MARKET
 * closePosition order), and `quantum:apply:protective_stop:<SYMBOL>` names a working stop.
 */
export async function checkStops(w: ModelWorld): Promise<string[]> {
  const out: string[] = [];
  const orders = w.fake.orders();
  for (const s of MODEL_SYMBOLS) {
    const stops = orders.filter((o) => o.symbol === s && o.algo);
    if (stops.length === 0) continue;
    const working = stops.filter((o) => o.status === "NEW" && o.type === "STOP_MARKET" && o.closePosition);
    if (working.length === 0) {
      out.push(`${s}: had a stop (${stops.map((o) => `${o.clientOrderId} ${o.status}`)}), none works now`);
      continue;
    }
    const named = await w.r.hget(keys.protectiveStop(s), "client_order_id");
    if (named !== null && !working.some((o) => o.clientOrderId === named)) {
      out.push(`${s}: protective_stop names ${named}, working: ${working.map((o) => o.clientOrderId)}`);
    }
  }
  return out;
}

/** Results agree with the venue: a close reported executed has fills summing to its executed_qty. */
export async function checkResults(w: ModelWorld): Promise<string[]> {
  const out: string[] = [];
  const results = new Map(
    (await readStream(w.r, streams.applyResult)).map(([, f]) => [f.plan_id ?? "", f] as const),
  );
  const filled = new Map<string, Decimal>();
  for (const { order, planId } of closeFills(w.fake.orders())) {
    filled.set(planId, (filled.get(planId) ?? new Decimal(0)).plus(order.executedQty));
  }
  for (const p of w.plans) {
    const res = results.get(p.planId);
    if (res === undefined || p.action === "UPDATE_SL") continue;
    const venue = filled.get(p.planId);
    const executed = res.executed === "True";
    if (executed !== (venue !== undefined)) {
      out.push(
        `${p.planId}: result ${res.decision} ${res.reason} executed=${res.executed}, venue filled ${venue ?? 0}`,
      );
    } else if (venue !== undefined && !venue.eq(res.executed_qty ?? "0")) {
      out.push(`${p.planId}: result executed_qty ${res.executed_qty}, venue filled ${venue}`);
    }
  }
  return out;
}
