import { keys, streams } from "@quantum/contracts";
import { eventually, metricValue, scrapeMetrics, startTestRedis, type TestRedis } from "@quantum/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allowP33,
  grantGovernor,
  proposal,
  resultsFor,
  startApply,
  streamProposal,
  waitPlan,
  waitResult,
} from "./helpers.js";

let redis: TestRedis;
const API = { apiKey: "kill-key", apiSecret: "kill-secret" };

beforeAll(async () => {
  redis = await startTestRedis();
});

afterAll(async () => {
  await redis?.stop();
});

describe("global kill switch", () => {
  it("set while 200 plans wait for permits: every plan BLOCKED kill_switch_active, zero orders", async () => {
    const r = redis.client(0);
    await r.set(keys.killSwitch, "false");
    const symbols = Array.from({ length: 200 }, (_, i) => `K${String(i).padStart(3, "0")}USDT`);
    const apply = await startApply(redis, {
      APPLY_ALLOWLIST: symbols.join(","),
      SYMBOLS: "BTCUSDT",
      APPLY_PERMIT_WAIT_MS: "60000",
      APPLY_POLL_SEC: "1",
    });
    try {
      const planIds = await Promise.all(symbols.map((s) => streamProposal(r, proposal(s))));
      // Every plan is published and waiting: it holds its symbol lock for the whole wait.
      await eventually(async () => (await r.keys(keys.symbolLock("K*"))).length === 200, {
        timeoutMs: 20_000,
      });
      expect(await r.hlen(keys.applyOpenPlans)).toBe(200);
      expect(await r.xlen(streams.applyResult)).toBe(0);

      await r.set(keys.killSwitch, "true");
      const pipe = r.pipeline();
      planIds.forEach((id, i) => {
        const symbol = symbols[i] as string;
        pipe.set(
          keys.governorPermit(id),
          JSON.stringify({
            granted: true,
            symbol,
            decision: "EXECUTE",
            computed_qty: "1",
            computed_notional: null,
            created_at: 1,
            consumed: false,
          }),
          "EX",
          60,
        );
        pipe.set(
          keys.p33Permit(id),
          JSON.stringify({
            allow: true,
            symbol,
            safe_qty: "1",
            safe_close_qty: "1",
            exchange_position_amt: "2",
            ledger_amt: "2",
            created_at: 1,
            reason: "sanity_checks_passed",
          }),
          "EX",
          60,
        );
      });
      await pipe.exec();

      await eventually(async () => (await r.xlen(streams.applyResult)) === 200, { timeoutMs: 20_000 });
      for (const id of planIds) {
        const res = await resultsFor(r, id);
        expect(res).toHaveLength(1);
        expect(res[0]).toMatchObject({
          decision: "BLOCKED",
          reason: "kill_switch_active",
          executed: "False",
        });
      }
      const m = await scrapeMetrics(apply.port);
      expect(metricValue(m, "exchange_requests_total", { endpoint: "new_order" })).toBe(0);
      expect(metricValue(m, "apply_executed_total", { status: "kill_switch" })).toBe(200);
      expect(metricValue(m, "apply_executed_total", { status: "success" })).toBe(0);
      expect(metricValue(m, "apply_kill_switch_active")).toBe(1);
      expect(await r.hlen(keys.applyOpenPlans)).toBe(0);
      // Permits were not consumed: the consume script checks the kill switch before any write.
      expect(await r.exists(keys.governorPermit(planIds[0] as string))).toBe(1);
    } finally {
      await apply.proc.stop();
    }
  }, 90_000);

  it("production with the kill switch key missing is halted; an explicit false arms it", async () => {
    // Production never talks to a loopback venue, so this process gets the real host and must send
    // nothing: a halted plan stops in the consume script, before any exchange call.
    const r = redis.client(1);
    await r.del(keys.killSwitch);
    const apply = await startApply(redis, {
      REDIS_URL: redis.url(1),
      APPLY_MODE: "production",
      BINANCE_API_KEY: API.apiKey,
      BINANCE_API_SECRET: API.apiSecret,
    });
    try {
      expect(await r.hget(keys.serviceStatus("apply-layer"), "mode")).toBe("production");
      const halted = await streamProposal(r, proposal("BTCUSDT"));
      await waitPlan(r, halted);
      await grantGovernor(r, halted, "BTCUSDT");
      await allowP33(r, halted, "BTCUSDT", "0.010", "0.100", { venue: "production" });
      expect(await waitResult(r, halted)).toMatchObject({
        decision: "BLOCKED",
        reason: "kill_switch_active",
        mode: "production",
      });
      const m = await scrapeMetrics(apply.port);
      expect(metricValue(m, "exchange_requests_total", { endpoint: "new_order" })).toBe(0);
      expect(metricValue(m, "apply_kill_switch_active")).toBe(1);
      // the permits were not consumed: the kill switch is checked before any write
      expect(await r.exists(keys.governorPermit(halted))).toBe(1);

      await r.set(keys.killSwitch, "false");
      await eventually(
        async () => metricValue(await scrapeMetrics(apply.port), "apply_kill_switch_active") === 0,
      );
    } finally {
      await apply.proc.stop();
    }
  });
});
