import { keys } from "@quantum/contracts";
import { describe, expect, it } from "vitest";
import {
  allowP33,
  grantGovernor,
  planIdOf,
  proposal,
  resultsFor,
  startApply,
  streamProposal,
  waitPlan,
  waitResult,
} from "./helpers.js";
import { useTestnetRig } from "./rig.js";

// One funnel: a plan resumed after a restart passes the same entry gate as a fresh one, against the config and
// control keys of the new process, before it waits for or consumes anything.
const rig = useTestnetRig({
  api: { apiKey: "funnel-key", apiSecret: "funnel-secret" },
  venue: { positions: [{ symbol: "BTCUSDT", positionAmt: "1.000", markPrice: "60000" }] },
  dbs: [0, 1, 2],
  env: { APPLY_PERMIT_WAIT_MS: "60000" },
});

describe("a plan left open by a stopped instance, resumed after the restart", () => {
  it.each([
    [
      "APPLY_KILL_SWITCH=true",
      0,
      { APPLY_KILL_SWITCH: "true" },
      { decision: "BLOCKED", reason: "kill_switch_active", executed: "False" },
    ],
    [
      "the symbol removed from APPLY_ALLOWLIST",
      1,
      { APPLY_ALLOWLIST: "ETHUSDT" },
      { decision: "SKIP", reason: "not_in_allowlist", executed: "False" },
    ],
    [
      "APPLY_MODE=dry_run",
      2,
      { APPLY_MODE: "dry_run" },
      { decision: "EXECUTE", reason: "none", executed: "False", would_execute: "True" },
    ],
  ] as const)(
    "with %s: nothing consumed, nothing sent, one result",
    async (_name, db, restartEnv, expected) => {
      const r = rig.redis.client(db);
      const consumer = `funnel-${db}`;
      const first = await startApply(rig.redis, rig.env(db), { consumer });
      const planId = await streamProposal(r, proposal("BTCUSDT"));
      await waitPlan(r, planId);
      // A graceful stop ends the permit wait and leaves the plan open for the next start.
      await first.proc.stop();
      expect(await r.hexists(keys.applyOpenPlans, planId)).toBe(1);
      await grantGovernor(r, planId, "BTCUSDT");
      await allowP33(r, planId, "BTCUSDT", "0.010", "1.000");

      const second = await startApply(rig.redis, { ...rig.env(db), ...restartEnv }, { consumer });
      try {
        expect(await waitResult(r, planId)).toMatchObject(expected);
        expect(rig.fake.ordersFor(`qp3-c-${planId}`)).toHaveLength(0);
        expect(await r.exists(keys.governorPermit(planId))).toBe(1);
        expect(await r.exists(keys.p33Permit(planId))).toBe(1);
        expect(await resultsFor(r, planId)).toHaveLength(1);
        expect(await r.hlen(keys.applyOpenPlans)).toBe(0);
      } finally {
        await second.proc.stop();
      }
    },
  );
});

describe("recovery finds unfinished records through the open-execution index", () => {
  it("resolves an indexed record without a single SCAN", async () => {
    const r = rig.redis.client(2);
    await r.config("RESETSTAT");
    // As the claim script leaves a record: CLAIMED, listed in keys.execOpen.
    const planId = planIdOf(proposal("BTCUSDT"));
    await r.hset(keys.execRecord(planId), {
      state: "CLAIMED",
      plan_id: planId,
      symbol: "BTCUSDT",
      created_at: "1769900000.000",
    });
    await r.zadd(keys.execOpen, 1769900000000, planId);
    const apply = await startApply(rig.redis, { ...rig.env(2), APPLY_RECOVERY_INTERVAL_SEC: "0.2" });
    try {
      expect(await waitResult(r, planId)).toMatchObject({ decision: "ERROR", reason: "internal_error" });
      expect(await r.zscore(keys.execOpen, planId)).toBeNull();
      const stats = await r.info("commandstats");
      expect(stats).toMatch(/cmdstat_zrange:calls=[1-9]/);
      expect(stats).not.toMatch(/cmdstat_scan:/);
    } finally {
      await apply.proc.stop();
    }
  });
});
