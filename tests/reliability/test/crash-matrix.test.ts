import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditExactlyOnce, ledgersSettled, p35Settled } from "./support/audit.js";
import { recordFigures } from "./support/figures.js";
import { type Rig, startRig, tick } from "./support/rig.js";
import { announceSeed, rng } from "./support/seed.js";
import { ALL_PROCESSES, type ServiceName } from "./support/system.js";
import { Traffic } from "./support/traffic.js";

// SIGKILL of any process at any point, restarted each time: every plan gets exactly one result and
// the venue at most one order per plan. The kill schedule (which process, after how many plans, how long
// after, how long down) comes from the seed; the Apply Layer is also killed at each of its four critical
// points through its test crash hook (APPLY_TEST_CRASH_AT), armed on a fresh incarnation.

const PLANS = 200;
const WINDOW = 20;
const CRASH_POINTS = ["after_claim", "after_submitting", "after_fill", "before_result"] as const;

interface Kill {
  readonly target: ServiceName;
  /** Kill once this many plans were sent. */
  readonly afterPlans: number;
  readonly delayMs: number;
  readonly downMs: number;
  /** Apply Layer only: restart armed with this crash point (the new incarnation kills itself there). */
  readonly hook: (typeof CRASH_POINTS)[number] | null;
}

function schedule(seed: number): Kill[] {
  const rand = rng(seed, "crash-matrix");
  const targets: Array<[ServiceName, Kill["hook"]]> = [
    ...CRASH_POINTS.map((p): [ServiceName, Kill["hook"]] => ["apply", p]),
    ["apply", null],
    ["apply", null],
    ["p33", null],
    ["p33", null],
    ["p33", null],
    ["p35", null],
    ["p35", null],
    ["p35", null],
    ["governor", null],
    ["governor", null],
  ];
  const at = new Set<number>();
  while (at.size < targets.length) at.add(rand.int(6, PLANS - 25));
  const thresholds = [...at].sort((a, b) => a - b);
  return rand.shuffle(targets).map(([target, hook], i) => ({
    target,
    hook,
    afterPlans: thresholds[i] as number,
    delayMs: rand.int(0, 400),
    downMs: rand.int(0, 800),
  }));
}

let rig: Rig;
let seed: number;
const t0 = Date.now();

beforeAll(async () => {
  seed = announceSeed("crash-matrix");
  rig = await startRig("crash");
});

afterAll(async () => {
  await rig?.close();
});

describe("crash matrix", () => {
  it(`SIGKILL every process at seeded points across ${PLANS} plans: one result per plan, at most one order per plan`, async () => {
    const { r, fake, sys } = rig;
    const kills = schedule(seed);
    const traffic = new Traffic(r, sys.symbols);
    const killed: Record<ServiceName, number> = { apply: 0, p33: 0, p35: 0, governor: 0 };
    const hooksFired = new Set<string>();
    const downUntil = new Map<ServiceName, number>();
    let armed: Kill["hook"] = null;
    let next = 0;
    let dueAt: number | null = null;

    const unexpectedExits: string[] = [];
    // Restart what is down: processes this test killed (after their down time), the armed Apply Layer once
    // its hook fired, and anything else that exited (recorded: a crash nobody caused is a failure).
    const supervise = (): void => {
      for (const name of ALL_PROCESSES) {
        if (sys.running(name)) continue;
        const until = downUntil.get(name);
        if (until !== undefined && Date.now() < until) continue;
        const p = sys.proc(name)?.proc;
        if (until === undefined && name === "apply" && armed !== null && p?.signalCode === "SIGKILL") {
          hooksFired.add(armed); // the armed incarnation killed itself at its crash point
          killed.apply++;
          armed = null;
        } else if (until === undefined) {
          unexpectedExits.push(`${name}: ${p?.exitCode ?? p?.signalCode}\n${sys.tail(name, 1500)}`);
        }
        downUntil.delete(name);
        sys.start(name);
      }
    };

    const deadline = Date.now() + 200_000;
    while (traffic.sent.size < PLANS || next < kills.length) {
      if (Date.now() > deadline) throw new Error(`crash matrix stalled at ${traffic.sent.size} plans`);
      await traffic.poll();
      supervise();
      const k = kills[next];
      // An Apply Layer kill waits while a crash hook is armed (the armed incarnation must die at its point).
      const postponed = k?.target === "apply" && armed !== null;
      if (k !== undefined && !postponed && traffic.sent.size >= k.afterPlans) {
        dueAt ??= Date.now() + k.delayMs;
        if (Date.now() >= dueAt && sys.running(k.target)) {
          await sys.kill(k.target);
          killed[k.target]++;
          if (k.hook !== null) {
            // Restart at once, armed: the next plan to reach the point kills the process there.
            armed = k.hook;
            sys.start("apply", { APPLY_TEST_CRASH_AT: k.hook });
          } else {
            downUntil.set(k.target, Date.now() + k.downMs);
          }
          next++;
          dueAt = null;
        }
      }
      if (traffic.sent.size < PLANS && traffic.outstanding() < WINDOW && (await traffic.sendNext()) !== null)
        continue;
      await tick();
    }
    // Let an armed hook fire (plans are still in flight), then run everything unarmed until all results are out.
    const settleBy = Date.now() + 120_000;
    while (traffic.outstanding() > 0 || armed !== null || downUntil.size > 0) {
      if (Date.now() > settleBy) break;
      await traffic.poll();
      supervise();
      if (armed !== null && traffic.outstanding() === 0) {
        // No plan left to reach the armed point: replace the armed incarnation.
        await sys.stop("apply");
        armed = null;
        sys.start("apply");
      }
      await tick();
    }
    for (const name of ALL_PROCESSES) await sys.waitHealthy(name, 60_000);
    await traffic.waitAllResolved(60_000);

    const audit = await auditExactlyOnce(r, fake);
    const p35 = await p35Settled(r, audit.results);
    const drift = await ledgersSettled(r, fake, sys.symbols);
    const figures = {
      plans: audit.plans,
      faults: Object.values(killed).reduce((a, b) => a + b, 0),
      orders: audit.orders,
      duplicates: audit.duplicateOrders.length + audit.duplicateResults.length + audit.duplicatePlans.length,
      lost: audit.lostPlans.length + [...traffic.sent.keys()].filter((id) => !traffic.results.has(id)).length,
      seconds: Math.round((Date.now() - t0) / 1000),
      kills: killed,
      crashHooksFired: [...hooksFired].sort(),
      orderRequests: audit.orderRequests,
      byDecision: audit.byDecision,
      byReason: audit.byReason,
      internalErrors: audit.internalErrors,
    };
    recordFigures("crash-matrix", seed, figures);

    expect(unexpectedExits).toEqual([]);
    expect(audit.plans).toBe(PLANS);
    expect(traffic.failedSends).toBe(0);
    expect(audit.duplicatePlans).toEqual([]);
    expect(audit.lostPlans).toEqual([]);
    expect(audit.duplicateResults).toEqual([]);
    expect(audit.orphanResults).toEqual([]);
    expect(audit.duplicateOrders).toEqual([]);
    expect(audit.untruthful).toEqual([]);
    expect(audit.results).toBe(PLANS);
    // Every process was killed, the Apply Layer at each critical point.
    expect(killed.p33).toBeGreaterThanOrEqual(3);
    expect(killed.p35).toBeGreaterThanOrEqual(3);
    expect(killed.governor).toBeGreaterThanOrEqual(2);
    expect(killed.apply).toBeGreaterThanOrEqual(6);
    expect([...hooksFired].sort()).toEqual([...CRASH_POINTS].sort());
    // Most plans still traded: the faults cost availability, not correctness.
    expect(audit.orders).toBeGreaterThan(PLANS / 2);
    // P3.5 counted every result exactly once across its own kills; P3.3's ledger applied every fill once.
    expect(p35.processedTotal).toBe(audit.results);
    expect(p35.buckets).toEqual(audit.byDecision);
    expect(drift).toEqual([]);
  });
});
