import { computePlanId, decodeHarvestProposal, keys, streams } from "@quantum/contracts";
import { type FakeBinance, startFakeBinance } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditExactlyOnce, ledgersSettled, p35Settled } from "./support/audit.js";
import { recordFigures } from "./support/figures.js";
import { fakeCredentials, tick } from "./support/rig.js";
import { announceSeed, rng } from "./support/seed.js";
import { type SentinelRig, startSentinelRig } from "./support/sentinel.js";
import { fakePositions, fakeSymbols, QuantumSystem, SERVICES } from "./support/system.js";
import { readStream, Traffic } from "./support/traffic.js";

// Redis Sentinel failover. One primary, one replica, three sentinels on loopback; the services find
// the master through REDIS_SENTINELS. The primary is SIGKILLed while plans are in flight; the sentinels
// promote the replica and every service follows it without restarting.
//
// What holds with asynchronous replication: writes the primary acknowledged in the last moments before it
// died may be missing on the replica. Replication keeps order, so the new primary holds a consistent prefix
// of history: a proposal lost that way never becomes a plan (it is counted below, not hidden), and every
// plan the new primary knows gets exactly one result (open plans and non-final execution records are
// finished by recovery, looked up at the venue by client order id). Independent of Redis, the venue never
// receives a second order for a plan: the client order id is derived from the plan_id.

let sentinel: SentinelRig;
let fake: FakeBinance;
let sys: QuantumSystem;
let r: Redis;
let seed: number;
const t0 = Date.now();

beforeAll(async () => {
  seed = announceSeed("sentinel-failover");
  sentinel = await startSentinelRig();
  r = sentinel.client();
  await r.set(keys.killSwitch, "false");
  const creds = fakeCredentials("sentinel");
  fake = await startFakeBinance({ ...creds, symbols: fakeSymbols(), positions: fakePositions() });
  sys = await QuantumSystem.create({
    redisEnv: sentinel.env,
    exchange: { baseUrl: fake.baseUrl, ...creds },
    tag: "sentinel",
    // Plans wait ~200 ms for their Governor permit, so some are always in flight when the primary dies.
    env: { governor: { GOVERNOR_DELAY_MS: "200" } },
  });
  await sys.startAll(r);
});

afterAll(async () => {
  await sys?.stopAll().catch(() => undefined);
  await fake?.close();
  await sentinel?.stop();
});

describe("sentinel failover", () => {
  it("SIGKILL of the primary mid-load: the replica is promoted, services follow, exactly-once holds", async () => {
    const rand = rng(seed, "sentinel-failover");
    const traffic = new Traffic(r, sys.symbols);
    const warmup = rand.int(20, 50);
    const pump = async () => {
      await traffic.poll();
      await traffic.sendNext();
    };
    while (traffic.results.size < warmup || traffic.outstanding() < 3) await Promise.all([pump(), tick()]);
    const inFlightAtKill = traffic.outstanding();
    const killedAt = await sentinel.killPrimary();

    let promotedAt = 0;
    while (promotedAt === 0) {
      if (Date.now() - killedAt > 60_000) throw new Error("no failover within 60 s");
      await pump();
      const ports = await sentinel.masterPorts().catch(() => []);
      if (ports.length === 3 && ports.every((p) => p === sentinel.replicaPort)) promotedAt = Date.now();
      await tick();
    }
    for (const s of SERVICES) await sys.waitHealthy(s, 60_000);
    const followedAt = Date.now();
    const target = traffic.sent.size + 60;
    while (traffic.sent.size < target) await Promise.all([pump(), tick()]);

    // Proposals the old primary acknowledged but never replicated cannot become plans: find them.
    const harvest = new Set(
      (await readStream(r, streams.harvestProposal)).flatMap(([, f]) => {
        const p = decodeHarvestProposal(f);
        return p.ok ? [computePlanId(p.value)] : [];
      }),
    );
    const lostToReplication = [...traffic.sent.keys()].filter((id) => !harvest.has(id));
    for (const id of lostToReplication) traffic.sent.delete(id);
    await traffic.waitAllResolved(90_000);

    const audit = await auditExactlyOnce(r, fake);
    const p35 = await p35Settled(r, audit.results);
    const drift = await ledgersSettled(r, fake, sys.symbols);
    const info = await r.info("replication");
    recordFigures("sentinel-failover", seed, {
      plans: audit.plans,
      faults: 1,
      orders: audit.orders,
      duplicates: audit.duplicateOrders.length + audit.duplicateResults.length + audit.duplicatePlans.length,
      lost: audit.lostPlans.length,
      seconds: Math.round((Date.now() - t0) / 1000),
      plansInFlightAtKill: inFlightAtKill,
      promotedAfterMs: promotedAt - killedAt,
      servicesFollowedAfterMs: followedAt - killedAt,
      proposalsLostToAsyncReplication: lostToReplication.length,
      byDecision: audit.byDecision,
      byReason: audit.byReason,
    });

    expect(info).toContain("role:master");
    expect(await r.config("GET", "port")).toEqual(["port", String(sentinel.replicaPort)]);
    for (const s of SERVICES) expect(sys.starts(s), `${s} restarted`).toBe(1);
    expect(inFlightAtKill).toBeGreaterThanOrEqual(3);
    expect(audit.duplicatePlans).toEqual([]);
    expect(audit.duplicateResults).toEqual([]);
    expect(audit.duplicateOrders).toEqual([]);
    expect(audit.lostPlans).toEqual([]);
    expect(audit.orphanResults).toEqual([]);
    expect(audit.untruthful).toEqual([]);
    expect(p35.processedTotal).toBe(audit.results);
    expect(p35.buckets).toEqual(audit.byDecision);
    expect(drift).toEqual([]);
    // Trading resumed on the new primary.
    expect(fake.orders().filter((o) => o.time > followedAt).length).toBeGreaterThan(20);
  });
});
