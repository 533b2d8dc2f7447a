import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditExactlyOnce, ledgersSettled, p35Settled } from "./support/audit.js";
import { recordFigures } from "./support/figures.js";
import { type Rig, startRig, tick } from "./support/rig.js";
import { announceSeed, rng } from "./support/seed.js";
import { SERVICES, type ServiceName } from "./support/system.js";
import { Traffic } from "./support/traffic.js";

// Redis down → no orders, the services keep retrying (their processes stay up), /health goes red,
// and nothing is lost or doubled when it returns. Redis runs with AOF (appendfsync always) and is stopped
// for OUTAGE_MS under steady proposal load, then started again on the same port with the same data.

const OUTAGE_MS = 10_000;
/** An order request already on the wire when Redis stopped may land this long after (loopback). */
const IN_FLIGHT_GRACE_MS = 500;

let rig: Rig;
let seed: number;
const t0 = Date.now();

beforeAll(async () => {
  seed = announceSeed("redis-outage");
  // The Governor answers each batch after 300 ms, so plans are always waiting for permits when Redis stops.
  rig = await startRig("outage", { appendOnly: true, env: { governor: { GOVERNOR_DELAY_MS: "300" } } });
});

afterAll(async () => {
  await rig?.close();
});

describe("redis outage under load", () => {
  it(`redis stopped ${OUTAGE_MS / 1000} s: no orders, services up and red, nothing lost or doubled`, async () => {
    const { r, fast, fake, sys, redis } = rig;
    const rand = rng(seed, "redis-outage");
    const traffic = new Traffic(fast, sys.symbols);
    // Seeded load: the warm-up length and the send pacing.
    const warmup = rand.int(30, 60);
    const paceMs = rand.int(20, 60);
    let lastSend = 0;
    const pump = async (): Promise<void> => {
      await traffic.poll();
      if (Date.now() - lastSend >= paceMs) {
        lastSend = Date.now();
        await traffic.sendNext();
      }
    };

    while (traffic.results.size < warmup || traffic.outstanding() < 3) await Promise.all([pump(), tick()]);
    const inFlightAtStop = traffic.outstanding();

    await redis.stopServer();
    const downAt = Date.now();
    const sawRed: Record<ServiceName, boolean> = { apply: false, p33: false, p35: false, governor: true };
    const exitedDuringOutage: string[] = [];
    while (Date.now() - downAt < OUTAGE_MS) {
      await pump(); // sends fail fast while Redis is down
      for (const s of SERVICES) {
        if (!sys.running(s)) exitedDuringOutage.push(s);
        if (!sawRed[s] && (await sys.health(s)) === 503) sawRed[s] = true;
      }
      await tick(50);
    }
    const redAtEnd = await Promise.all(SERVICES.map((s) => sys.health(s)));
    await redis.startServer();
    const upAt = Date.now();

    // Green again, same processes, and the load goes on for a while after the restart.
    for (const s of SERVICES) await sys.waitHealthy(s, 30_000);
    const greenAfterMs = Date.now() - upAt;
    const afterUp = traffic.sent.size + 40;
    while (traffic.sent.size < afterUp) await Promise.all([pump(), tick()]);
    await traffic.waitAllResolved(90_000);

    const audit = await auditExactlyOnce(r, fake);
    const p35 = await p35Settled(r, audit.results);
    const drift = await ledgersSettled(r, fake, sys.symbols);
    const ordersWhileDown = fake
      .orders()
      .filter((o) => o.time > downAt + IN_FLIGHT_GRACE_MS && o.time < upAt)
      .map((o) => o.clientOrderId);
    const orderRequestsWhileDown = fake
      .requests()
      .filter((q) => q.method === "POST" && q.atMs > downAt + IN_FLIGHT_GRACE_MS && q.atMs < upAt).length;
    recordFigures("redis-outage", seed, {
      plans: audit.plans,
      faults: 1,
      orders: audit.orders,
      duplicates: audit.duplicateOrders.length + audit.duplicateResults.length + audit.duplicatePlans.length,
      lost: audit.lostPlans.length + [...traffic.sent.keys()].filter((id) => !traffic.results.has(id)).length,
      seconds: Math.round((Date.now() - t0) / 1000),
      outageMs: upAt - downAt,
      plansInFlightAtStop: inFlightAtStop,
      sendsRefusedWhileDown: traffic.failedSends,
      ordersWhileDown: ordersWhileDown.length,
      greenAfterRestartMs: greenAfterMs,
      byDecision: audit.byDecision,
      byReason: audit.byReason,
      internalErrors: audit.internalErrors,
    });

    expect(exitedDuringOutage).toEqual([]);
    for (const s of SERVICES) expect(sys.starts(s), `${s} was never restarted`).toBe(1);
    expect(sawRed).toEqual({ apply: true, p33: true, p35: true, governor: true });
    expect(redAtEnd).toEqual([503, 503, 503]);
    expect(inFlightAtStop).toBeGreaterThanOrEqual(3);
    expect(traffic.failedSends).toBeGreaterThan(0);
    expect(ordersWhileDown).toEqual([]);
    expect(orderRequestsWhileDown).toBe(0);
    expect(audit.duplicatePlans).toEqual([]);
    expect(audit.lostPlans).toEqual([]);
    expect(audit.duplicateResults).toEqual([]);
    expect(audit.orphanResults).toEqual([]);
    expect(audit.duplicateOrders).toEqual([]);
    expect(audit.untruthful).toEqual([]);
    // Every proposal Redis accepted became a plan with its one result.
    expect([...traffic.sent.keys()].filter((id) => !traffic.results.has(id))).toEqual([]);
    expect(p35.processedTotal).toBe(audit.results);
    expect(p35.buckets).toEqual(audit.byDecision);
    expect(drift).toEqual([]);
  });
});
