import {
  computePlanId,
  DECISIONS,
  decodeApplyPlan,
  decodeDeadLetter,
  decodeHarvestProposal,
  decodeP33Permit,
  isApplyReason,
  keys,
  P33_ALLOW_REASON,
  P33_DENY_REASONS,
  PLAN_ID_RE,
  streams,
} from "@quantum/contracts";
import { eventually } from "@quantum/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditExactlyOnce } from "./support/audit.js";
import { recordFigures } from "./support/figures.js";
import { groupStates, StreamFollower } from "./support/follow.js";
import {
  type FieldMap,
  hasHugeValue,
  planArb,
  proposalArb,
  QUIET_MINUTE_SEC,
  resultArb,
  samples,
} from "./support/fuzz.js";
import { type Rig, startRig, tick } from "./support/rig.js";
import { announceSeed } from "./support/seed.js";
import { SERVICES } from "./support/system.js";
import { percentile, readStream, Traffic, toFields } from "./support/traffic.js";

// Malformed entries, unknown actions, huge fields, wrong types go to the dead-letter stream with
// a reason (or get a clear answer), never crash a service and never block its group; good entries interleaved
// with them are all processed, as fast as without them. Every input of every service is fed: harvest proposal
// hashes and stream (Apply Layer), apply.plan (P3.3 and the Governor), apply.result (P3.5 and the P3.3 ledger).

const N = { stream: 120, hashes: 60, plans: 120, results: 120, good: 40 };

let rig: Rig;
let seed: number;
let good: string[];
let fuzzSymbols: string[];
let baseline: number[] = [];
const t0 = Date.now();

beforeAll(async () => {
  seed = announceSeed("bad-input");
  rig = await startRig("badinput");
  good = rig.sys.symbols.slice(0, 10);
  fuzzSymbols = rig.sys.symbols.slice(10);
});

afterAll(async () => {
  await rig?.close();
});

async function xadd(stream: string, f: FieldMap): Promise<string> {
  return (await rig.r.xadd(stream, "*", ...Object.entries(f).flat())) as string;
}

async function readBack(stream: string, id: string): Promise<FieldMap> {
  const rows = (await rig.r.xrange(stream, id, id)) as Array<[string, string[]]>;
  return toFields(rows[0]?.[1] ?? []);
}

/** Send `n` good proposals on the good symbols (each after the previous one on its symbol is done). */
async function goodLoad(traffic: Traffic, n: number, between?: () => Promise<void>): Promise<void> {
  while (traffic.sent.size < n) {
    await traffic.poll();
    if ((await traffic.sendNext()) !== null && between !== undefined) await between();
    await tick();
  }
  await traffic.waitAllResolved(60_000);
}

describe("bad input into every input of every service", () => {
  it("baseline: good proposals alone", async () => {
    const traffic = new Traffic(rig.r, good, { settleMs: 300 });
    await goodLoad(traffic, N.good);
    baseline = traffic.latencies();
    expect(baseline).toHaveLength(N.good);
  });

  it("fuzzed entries are dead-lettered or answered, no crash, good entries unaffected", async () => {
    const { r, sys } = rig;
    const streamProposals = samples(proposalArb(fuzzSymbols), N.stream, seed + 1);
    const hashProposals = samples(proposalArb(fuzzSymbols), N.hashes, seed + 2);
    const plans = samples(planArb(fuzzSymbols), N.plans, seed + 3);
    const results = samples(resultArb(fuzzSymbols), N.results, seed + 4);
    const deadLetters = new StreamFollower(r, streams.deadLetter);
    const planStream = new StreamFollower(r, streams.applyPlan);

    // Hash path: one lane per symbol, one hash at a time (a hash is polled, not queued), each until its fate.
    const hashFates = { deadLettered: 0, planned: 0 };
    const lane = async (symbol: string, items: FieldMap[]): Promise<void> => {
      const key = keys.harvestProposal(symbol);
      for (const [i, item] of items.entries()) {
        const seq = `${symbol}-${i}`;
        await r
          .multi()
          .del(key)
          .hset(key, { ...item, _seq: seq })
          .exec();
        const stored = await r.hgetall(key);
        const decoded = decodeHarvestProposal(stored, symbol);
        if (decoded.ok) {
          const planId = computePlanId(decoded.value);
          await planStream.waitFor((f) => f.plan_id === planId, 30_000, `hash ${seq} planned as ${planId}`);
          hashFates.planned++;
        } else {
          await deadLetters.waitFor(
            (f) => f.stream === key && (JSON.parse(f.raw ?? "{}") as FieldMap)._seq === seq,
            30_000,
            `hash ${seq} dead-lettered`,
          );
          hashFates.deadLettered++;
        }
      }
      await r.del(key);
    };
    const lanes = fuzzSymbols.map((s, i) =>
      lane(
        s,
        hashProposals.filter((_, j) => j % fuzzSymbols.length === i),
      ),
    );

    // Stream path: bad entries into all three streams, a good proposal after every third round.
    const ids = { stream: [] as string[], plans: [] as string[], results: [] as string[] };
    let round = 0;
    const injectRound = async (): Promise<void> => {
      for (let k = 0; k < 3; k++, round++) {
        const p = streamProposals[round];
        const plan = plans[round];
        const res = results[round];
        if (p !== undefined) ids.stream.push(await xadd(streams.harvestProposal, p));
        if (plan !== undefined) ids.plans.push(await xadd(streams.applyPlan, plan));
        if (res !== undefined) ids.results.push(await xadd(streams.applyResult, res));
      }
    };
    // The same result once with a timestamp in seconds and once in milliseconds: one minute, counted twice.
    const quiet = { plan_id: "0000000000000abc", symbol: fuzzSymbols[0] as string, decision: "SKIP" };
    const tsIds = [
      await xadd(streams.applyResult, {
        ...quiet,
        reason: "action_hold",
        timestamp: String(QUIET_MINUTE_SEC + 30),
      }),
      await xadd(streams.applyResult, {
        ...quiet,
        reason: "action_hold",
        timestamp: String((QUIET_MINUTE_SEC + 31) * 1000),
      }),
    ];
    const traffic = new Traffic(r, good, { settleMs: 300, seqBase: 10_000 });
    await goodLoad(traffic, N.good, injectRound);
    while (round < N.stream) await injectRound();
    await Promise.all(lanes);
    const fuzzLatencies = traffic.latencies();

    // Harvest stream entries: dead-lettered by the Apply Layer, or planned with exactly one bounded result.
    const injected = { plans: new Set(ids.plans), results: new Set([...ids.results, ...tsIds]) };
    const audit = await eventually(
      async () => {
        const a = await auditExactlyOnce(r, rig.fake, injected);
        if (a.lostPlans.length > 0) throw new Error(`plans without a result: ${a.lostPlans.join(",")}`);
        return a;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(audit.duplicatePlans).toEqual([]);
    expect(audit.duplicateResults).toEqual([]);
    expect(audit.orphanResults).toEqual([]);
    expect(audit.duplicateOrders).toEqual([]);
    expect(audit.untruthful).toEqual([]);
    await deadLetters.poll();
    const dl = (service: string, stream: string) =>
      new Set(
        deadLetters.entries
          .filter((e) => e.fields.service === service && e.fields.stream === stream)
          .map((e) => e.fields.id ?? ""),
      );
    const applyDl = dl("apply-layer", streams.harvestProposal);
    const resultOf = new Map(
      (await readStream(r, streams.applyResult))
        .filter(([id]) => !injected.results.has(id))
        .map(([, f]) => [f.plan_id, f]),
    );
    let streamPlanned = 0;
    for (const id of ids.stream) {
      const decoded = decodeHarvestProposal(await readBack(streams.harvestProposal, id));
      if (!decoded.ok) {
        expect(applyDl.has(id), `harvest entry ${id} (${decoded.error.message}) not dead-lettered`).toBe(
          true,
        );
        continue;
      }
      streamPlanned++;
      const res = resultOf.get(computePlanId(decoded.value));
      expect(res, `harvest entry ${id} has no result`).toBeDefined();
      expect(DECISIONS).toContain(res?.decision);
      expect(isApplyReason(res?.reason ?? ""), `unbounded reason ${res?.reason}`).toBe(true);
    }

    // apply.plan entries: P3.3 dead-letters malformed ones (deny invalid_plan when an Apply Layer may wait) and
    // answers every EXECUTE plan with a permit.
    const p33Dl = dl("position-state-brain", streams.applyPlan);
    const planIdCount = new Map<string, number>();
    const fuzzPlans = await Promise.all(ids.plans.map((id) => readBack(streams.applyPlan, id)));
    for (const f of fuzzPlans) planIdCount.set(f.plan_id ?? "", (planIdCount.get(f.plan_id ?? "") ?? 0) + 1);
    let permitsWritten = 0;
    for (const [i, id] of ids.plans.entries()) {
      const f = fuzzPlans[i] as FieldMap;
      const decoded = decodeApplyPlan(f);
      const permitRaw = PLAN_ID_RE.test(f.plan_id ?? "")
        ? await r.get(keys.p33Permit(f.plan_id ?? ""))
        : null;
      const permit = permitRaw === null ? null : decodeP33Permit(permitRaw);
      if (decoded.ok) {
        if (decoded.value.decision !== "EXECUTE") continue;
        expect(permit?.ok, `EXECUTE plan ${id} without a readable P3.3 permit`).toBe(true);
        if (permit?.ok === true) {
          const reason = permit.value.reason;
          expect([P33_ALLOW_REASON, ...P33_DENY_REASONS]).toContain(reason);
        }
        permitsWritten++;
        continue;
      }
      expect(p33Dl.has(id), `plan entry ${id} (${decoded.error.message}) not dead-lettered by P3.3`).toBe(
        true,
      );
      const mayWait =
        f.decision === undefined || f.decision === "EXECUTE" || !DECISIONS.includes(f.decision as never);
      if (PLAN_ID_RE.test(f.plan_id ?? "") && mayWait && planIdCount.get(f.plan_id ?? "") === 1) {
        expect(permit?.ok === true && permit.value.allow === false ? permit.value.reason : null).toBe(
          "invalid_plan",
        );
        permitsWritten++;
      }
    }

    // apply.result entries: P3.5 counts or dead-letters each (never a good one); huge values are dead-lettered.
    const p35Dl = dl("decision-intelligence", streams.applyResult);
    const fuzzResults = await Promise.all(ids.results.map((id) => readBack(streams.applyResult, id)));
    for (const [i, id] of ids.results.entries()) {
      if (hasHugeValue(fuzzResults[i] as FieldMap))
        expect(p35Dl.has(id), `huge result ${id} counted`).toBe(true);
    }
    const injectedResults = new Set([...ids.results, ...tsIds]);
    expect([...p35Dl].filter((id) => !injectedResults.has(id))).toEqual([]);
    // P3.5 counted every other entry of apply.result exactly once (it replays the stream from 0).
    const p35Counted = await eventually(
      async () => {
        await deadLetters.poll();
        const dead = dl("decision-intelligence", streams.applyResult).size;
        const expected = (await r.xlen(streams.applyResult)) - dead;
        const n = Number(await r.hget(keys.p35Status, "processed_total"));
        if (n !== expected) throw new Error(`p35 processed ${n}, expected ${expected}`);
        return n;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const quietBucket = await r.hgetall(keys.p35Bucket(minuteKey(QUIET_MINUTE_SEC)));
    expect(quietBucket["decision:SKIP"]).toBe("2");
    const ledgerDl = dl("position-state-brain", streams.applyResult);

    // No group is stuck: everything delivered and acknowledged.
    await eventually(
      async () => {
        for (const stream of [streams.harvestProposal, streams.applyPlan, streams.applyResult]) {
          for (const [name, g] of Object.entries(await groupStates(r, stream))) {
            if (g.pending !== 0 || (g.lag ?? 0) !== 0)
              throw new Error(`${stream} ${name}: ${JSON.stringify(g)}`);
          }
        }
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    // Every dead letter is readable and says why.
    for (const e of deadLetters.entries) {
      const d = decodeDeadLetter(e.fields);
      expect(d.ok, `unreadable dead letter ${e.id}`).toBe(true);
      if (d.ok) expect(d.value.error.length).toBeGreaterThan(0);
    }
    // No crash, all healthy, the good entries as fast as without the bad ones.
    for (const s of SERVICES) {
      expect(sys.starts(s)).toBe(1);
      expect(await sys.health(s), `${s} health`).toBe(200);
    }
    expect(sys.running("governor")).toBe(true);
    expect(fuzzLatencies).toHaveLength(N.good);
    const p95 = { baseline: percentile(baseline, 95), fuzz: percentile(fuzzLatencies, 95) };
    expect(Math.max(...fuzzLatencies)).toBeLessThan(10_000);
    expect(p95.fuzz).toBeLessThanOrEqual(Math.max(3000, 5 * p95.baseline));

    recordFigures("bad-input", seed, {
      plans: audit.plans,
      faults: ids.stream.length + N.hashes + ids.plans.length + ids.results.length,
      orders: audit.orders,
      duplicates: audit.duplicateOrders.length + audit.duplicateResults.length + audit.duplicatePlans.length,
      lost: audit.lostPlans.length,
      seconds: Math.round((Date.now() - t0) / 1000),
      deadLettered: {
        applyStream: applyDl.size,
        applyHashes: hashFates.deadLettered,
        p33Plans: p33Dl.size,
        p35Results: p35Dl.size,
        p33Ledger: ledgerDl.size,
      },
      answered: { streamPlanned, hashPlanned: hashFates.planned, p33Permits: permitsWritten, p35Counted },
      goodLatencyP95Ms: p95,
    });
  });
});

function minuteKey(sec: number): string {
  return new Date(sec * 1000).toISOString().slice(0, 16).replace(/[-T:]/g, "");
}
