import { keys } from "@quantum/contracts";
import { startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  beginSubmit,
  consumePermits,
  KILL_SWITCH_CASES,
  ordersInFlight,
  transitionExec,
} from "../src/index.js";
import { scripted } from "./helpers.js";

let server: TestRedis;
let r: Redis;

beforeAll(async () => {
  server = await startTestRedis();
  r = scripted(server);
});
afterAll(async () => {
  await server.stop();
});
beforeEach(async () => {
  await r.flushdb();
});

async function claimed(planId: string): Promise<void> {
  await r.set(keys.governorPermit(planId), "{}");
  await r.set(keys.p33Permit(planId), "{}");
  await r.set(keys.killSwitch, "false");
  const c = await consumePermits(r, { planId, symbol: "BTCUSDT", mode: "paper", execRecordTtlSec: 60 });
  expect(c.outcome).toBe("ok");
}

describe("beginSubmit (the gate before an order)", () => {
  it("refuses (lock_lost) when the symbol lock holds another token, and passes for the holder", async () => {
    await claimed("cccccccccccccccc");
    await r.set(keys.symbolLock("BTCUSDT"), "other:boot:1");
    const p = {
      planId: "cccccccccccccccc",
      symbol: "BTCUSDT",
      mode: "paper" as const,
      lockToken: "me:boot:1",
    };
    expect(await beginSubmit(r, p)).toEqual({ outcome: "lock_lost" });
    expect(await r.hget(keys.execRecord("cccccccccccccccc"), "state")).toBe("CLAIMED");
    await r.set(keys.symbolLock("BTCUSDT"), "me:boot:1");
    expect(await beginSubmit(r, p)).toEqual({ outcome: "ok" });
    // the next chunk (or a retry after a rate limit) passes the gate again from SUBMITTING
    expect(await beginSubmit(r, { ...p, expected: ["CLAIMED", "SUBMITTING"] })).toEqual({ outcome: "ok" });
    expect(await r.zscore(keys.execOpen, "cccccccccccccccc")).not.toBeNull();
  });

  it("moves CLAIMED to SUBMITTING with the order fields and lists the plan as in flight", async () => {
    await claimed("aaaaaaaaaaaaaaaa");
    const out = await beginSubmit(r, {
      planId: "aaaaaaaaaaaaaaaa",
      symbol: "BTCUSDT",
      mode: "paper",
      fields: { client_order_id: "qp3-c-aaaaaaaaaaaaaaaa", qty: "0.010" },
      nowMs: 1_700_000_000_000,
    });
    expect(out).toEqual({ outcome: "ok" });
    const rec = await r.hgetall(keys.execRecord("aaaaaaaaaaaaaaaa"));
    expect(rec).toMatchObject({
      state: "SUBMITTING",
      client_order_id: "qp3-c-aaaaaaaaaaaaaaaa",
      qty: "0.010",
    });
    expect(await ordersInFlight(r)).toEqual(["aaaaaaaaaaaaaaaa"]);
    // once the order settled, the plan leaves the in-flight list
    await transitionExec(r, { planId: "aaaaaaaaaaaaaaaa", expected: "SUBMITTING", next: "FILLED" });
    expect(await ordersInFlight(r)).toEqual([]);
    expect(await r.zcard(keys.applySubmitting)).toBe(0);
  });

  it("refuses, writing nothing, when the kill switch halts (every row of the shared table)", async () => {
    for (const [i, c] of KILL_SWITCH_CASES.entries()) {
      const planId = i.toString(16).padStart(16, "0");
      await claimed(planId);
      if (c.value === null) await r.del(keys.killSwitch);
      else await r.set(keys.killSwitch, c.value);
      const out = await beginSubmit(r, { planId, symbol: "BTCUSDT", mode: c.mode });
      expect(out.outcome, `${String(c.value)} in ${c.mode}`).toBe(c.halted ? "kill_switch_active" : "ok");
      const state = await r.hget(keys.execRecord(planId), "state");
      expect(state).toBe(c.halted ? "CLAIMED" : "SUBMITTING");
    }
  });

  it("refuses when trading is HALTED, and a record that is not CLAIMED", async () => {
    await claimed("bbbbbbbbbbbbbbbb");
    await r.set(keys.tradingState, "HALTED");
    expect(
      (await beginSubmit(r, { planId: "bbbbbbbbbbbbbbbb", symbol: "BTCUSDT", mode: "paper" })).outcome,
    ).toBe("trading_state_halted");
    await r.set(keys.tradingState, "ACTIVE");
    expect(
      (await beginSubmit(r, { planId: "bbbbbbbbbbbbbbbb", symbol: "BTCUSDT", mode: "paper" })).outcome,
    ).toBe("ok");
    expect(await beginSubmit(r, { planId: "bbbbbbbbbbbbbbbb", symbol: "BTCUSDT", mode: "paper" })).toEqual({
      outcome: "state_mismatch",
      currentState: "SUBMITTING",
    });
    expect(
      (await beginSubmit(r, { planId: "cccccccccccccccc", symbol: "BTCUSDT", mode: "paper" })).outcome,
    ).toBe("missing");
  });

  it("once the kill switch SET has returned, no gate passes; racing gates are exactly the in-flight list", async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `d${i.toString(16).padStart(15, "0")}`);
    for (const id of ids) await claimed(id);
    const clients = Array.from({ length: 4 }, () => scripted(server));
    const racing = ids.map((planId, i) =>
      beginSubmit(clients[i % clients.length] as Redis, { planId, symbol: "BTCUSDT", mode: "paper" }).then(
        (o) => ({
          planId,
          o,
        }),
      ),
    );
    await r.set(keys.killSwitch, "true");
    const outs = await Promise.all(racing);
    // each racing gate either passed (record SUBMITTING, listed in flight) or was refused (record untouched)
    for (const { planId, o } of outs) {
      expect(["ok", "kill_switch_active"]).toContain(o.outcome);
      expect(await r.hget(keys.execRecord(planId), "state")).toBe(
        o.outcome === "ok" ? "SUBMITTING" : "CLAIMED",
      );
    }
    const passed = outs.filter((x) => x.o.outcome === "ok").map((x) => x.planId);
    expect(new Set(await ordersInFlight(r))).toEqual(new Set(passed));
    // after the SET returned, every remaining claimed plan is refused at the gate
    const late = outs.filter((x) => x.o.outcome !== "ok").map((x) => x.planId);
    const fresh = [...late, "e000000000000000"];
    await claimed("e000000000000000");
    await r.set(keys.killSwitch, "true");
    for (const planId of fresh) {
      expect((await beginSubmit(r, { planId, symbol: "BTCUSDT", mode: "paper" })).outcome).toBe(
        "kill_switch_active",
      );
      expect(await r.hget(keys.execRecord(planId), "state")).toBe("CLAIMED");
    }
    expect(new Set(await ordersInFlight(r))).toEqual(new Set(passed));
  });
});
