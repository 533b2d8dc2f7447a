import { keys } from "@quantum/contracts";
import type { FakeOrder } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import {
  allowP33,
  grantGovernor,
  proposal,
  startApply,
  streamProposal,
  waitPlan,
  waitResult,
} from "./helpers.js";
import { useTestnetRig } from "./rig.js";

// UPDATE_SL never leaves a protected position unprotected: the trigger is checked against the mark first, and a
// refused (or interrupted) replacement puts the previous stop back at its old trigger.
const rig = useTestnetRig({
  api: { apiKey: "stop-key", apiSecret: "stop-secret" },
  venue: {
    positions: [
      { symbol: "BTCUSDT", positionAmt: "1.000", markPrice: "60000" },
      { symbol: "ETHUSDT", positionAmt: "2.000", markPrice: "3000" },
    ],
  },
  dbs: [0, 1],
  env: { APPLY_PERMIT_WAIT_MS: "10000" },
});

async function updateSl(r: Redis, symbol: string, price: number, amt: string): Promise<string> {
  const planId = await streamProposal(r, proposal(symbol, { action: "UPDATE_SL", newSlProposed: price }));
  await waitPlan(r, planId);
  await grantGovernor(r, planId, symbol);
  await allowP33(r, planId, symbol, amt, amt);
  return planId;
}

function working(symbol: string): FakeOrder[] {
  return rig.fake.orders().filter((o) => o.symbol === symbol && o.algo && o.status === "NEW");
}

describe("UPDATE_SL with a working stop", () => {
  it("refused replacement (-2021), trigger through the mark, failed lookup: a stop always works", async () => {
    const r = rig.redis.client(0);
    const live = await startApply(rig.redis, rig.env(0));
    try {
      const first = await updateSl(r, "BTCUSDT", 55000, "1.000");
      expect(await waitResult(r, first)).toMatchObject({ decision: "EXECUTE", executed: "True" });
      expect(working("BTCUSDT").map((o) => [o.clientOrderId, Number(o.stopPrice)])).toEqual([
        [`qp3-s-${first}`, 55000],
      ]);

      // The venue refuses the replacement after the old stop was cancelled: the old one is placed again.
      rig.fake.injectFault({
        method: "POST",
        path: "/fapi/v1/algoOrder",
        kind: "reject",
        code: -2021,
        msg: "Order would immediately trigger.",
      });
      const refused = await updateSl(r, "BTCUSDT", 56000, "1.000");
      const res = await waitResult(r, refused);
      expect(res).toMatchObject({ decision: "ERROR", reason: "protective_stop_restored" });
      expect(res.detail).toMatch(
        / previous_stop=placed_again previous_stop_price=55000(\.0*)? previous_stop_order=\d+$/,
      );
      const now = working("BTCUSDT");
      expect(now.map((o) => [o.clientOrderId, Number(o.stopPrice)])).toEqual([[`qp3-r-${refused}`, 55000]]);
      expect(await r.hget(keys.protectiveStop("BTCUSDT"), "client_order_id")).toBe(`qp3-r-${refused}`);

      // A trigger already through the mark: refused before anything is touched.
      const through = await updateSl(r, "BTCUSDT", 61000, "1.000");
      expect(await waitResult(r, through)).toMatchObject({
        decision: "BLOCKED",
        reason: "stop_would_trigger",
      });
      expect(working("BTCUSDT").map((o) => o.clientOrderId)).toEqual([`qp3-r-${refused}`]);

      // The lookup by client id fails: nothing is cancelled, nothing sent.
      rig.fake.injectFault({ method: "GET", path: "/fapi/v1/algoOrder", kind: "serverError" });
      const blind = await updateSl(r, "BTCUSDT", 57000, "1.000");
      expect(await waitResult(r, blind)).toMatchObject({ decision: "ERROR", reason: "internal_error" });
      expect(working("BTCUSDT").map((o) => o.clientOrderId)).toEqual([`qp3-r-${refused}`]);
      expect(await r.hget(keys.protectiveStop("BTCUSDT"), "client_order_id")).toBe(`qp3-r-${refused}`);
    } finally {
      await live.proc.stop();
    }
  });

  it("killed between the cancel and the new stop: the restart places the old stop again", async () => {
    const r = rig.redis.client(1);
    const consumer = "stop-crash";
    const live = await startApply(rig.redis, rig.env(1), { consumer });
    const first = await updateSl(r, "ETHUSDT", 2800, "2.000");
    expect(await waitResult(r, first)).toMatchObject({ decision: "EXECUTE" });
    await live.proc.stop();

    const crashing = await startApply(
      rig.redis,
      { ...rig.env(1), APPLY_TEST_CRASH_AT: "after_submitting" },
      { consumer },
    );
    const second = await updateSl(r, "ETHUSDT", 2850, "2.000");
    expect(await crashing.proc.exited).toBe("SIGKILL");
    expect(working("ETHUSDT")).toHaveLength(0); // the old stop was cancelled, the new one never sent

    const restarted = await startApply(rig.redis, rig.env(1), { consumer });
    try {
      const res = await waitResult(r, second);
      expect(res).toMatchObject({ decision: "ERROR", reason: "protective_stop_restored" });
      expect(working("ETHUSDT").map((o) => [o.clientOrderId, Number(o.stopPrice)])).toEqual([
        [`qp3-r-${second}`, 2800],
      ]);
      expect(await r.hget(keys.protectiveStop("ETHUSDT"), "client_order_id")).toBe(`qp3-r-${second}`);
      expect(rig.fake.ordersFor(`qp3-s-${second}`)).toHaveLength(0);
    } finally {
      await restarted.proc.stop();
    }
  });
});
