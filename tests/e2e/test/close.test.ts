import { keys, streams } from "@quantum/contracts";
import { seedPaperPosition } from "@quantum/exchange";
import { type Stack, startStack } from "@quantum/stack";
import { eventually, metricValue, scrapeMetrics, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { quantumctl, quantumctlJson, ROOT, streamEntries } from "./support.js";

// `quantumctl close` on the local stack (Apply Layer, P3.3 and the dev governor in paper mode): the operator's
// close goes through the same gates as any plan, and the command prints the plan's one result.
let redis: TestRedis;
let r: Redis;
let stack: Stack;
let url = "";

const paperAmt = async (symbol: string) => Number(await r.hget(keys.paperPosition(symbol), "position_amt"));
const ordersOf = async (planId: string) =>
  (await streamEntries(r, streams.paperOrders)).filter((e) => e.f.client_order_id === `qp3-c-${planId}`);

interface CloseDoc {
  planId: string;
  action: string;
  result: { decision: string; reason: string; executed: boolean; executedQty?: string } | null;
}

beforeAll(async () => {
  redis = await startTestRedis();
  r = redis.client();
  url = redis.url(0);
  await seedPaperPosition(r, "BTCUSDT", "0.400", "60000.0");
  stack = await startStack({
    root: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      REDIS_URL: url,
      P33_COOLDOWN_SEC: "0",
      APPLY_PERMIT_WAIT_MS: "4000",
    },
    out: () => undefined,
    logDir: null,
    // The demo feeder trades only its own symbol, so BTCUSDT changes only by the closes below.
    symbols: ["BTCUSDT", "ETHUSDT", "BNBUSDT"],
    feederSymbols: ["BNBUSDT"],
    feederIntervalSec: 2,
    preferDefaultPorts: false,
  });
}, 90_000);

afterAll(async () => {
  await stack?.stop("close e2e done");
  await redis?.stop();
}, 60_000);

describe("quantumctl close", () => {
  it("one plan, both permits, one order, the result printed (exit 0)", async () => {
    const p33Before = metricValue(
      await scrapeMetrics(stack.services["position-state-brain"].port),
      "p33_permit_allow_total",
      { symbol: "BTCUSDT" },
    );
    const text = await quantumctl(url, ["close", "BTCUSDT", "--fraction", "0.5", "--reason", "e2e close"]);
    expect(text.code, text.stdout + text.stderr).toBe(0);
    expect(text.stdout).toMatch(/close BTCUSDT: PARTIAL_50 proposed as plan [0-9a-f]{16}/);
    expect(text.stdout).toMatch(/EXECUTE\s+reason none/);
    const planId = /plan ([0-9a-f]{16})/.exec(text.stdout)?.[1] ?? "";
    const plans = (await streamEntries(r, streams.applyPlan)).filter((e) => e.f.plan_id === planId);
    expect(plans).toHaveLength(1);
    expect(plans[0]?.f).toMatchObject({ decision: "EXECUTE", symbol: "BTCUSDT", action: "PARTIAL_50" });
    // Both permits were written and consumed; P3.3 allowed this plan.
    expect(await r.exists(keys.governorPermit(planId), keys.p33Permit(planId))).toBe(0);
    expect(await r.hget(keys.execRecord(planId), "state")).toBe("FILLED");
    const p33After = metricValue(
      await scrapeMetrics(stack.services["position-state-brain"].port),
      "p33_permit_allow_total",
      { symbol: "BTCUSDT" },
    );
    expect((p33After ?? 0) - (p33Before ?? 0)).toBe(1);
    expect(await ordersOf(planId)).toHaveLength(1);
    expect(await paperAmt("BTCUSDT")).toBe(0.2);
    const audit = await quantumctlJson<{ rows: Array<{ value: { command: string; after: string } }> }>(url, [
      "audit",
      "--limit",
      "1",
    ]);
    expect(audit.doc.rows[0]?.value).toMatchObject({ command: "close" });
    expect(JSON.parse(audit.doc.rows[0]?.value.after ?? "{}")).toMatchObject({ plan_id: planId });
  });

  it("with the kill switch on it ends BLOCKED kill_switch_active (exit 3) and sends nothing", async () => {
    expect((await quantumctl(url, ["kill", "on", "--reason", "e2e"])).code).toBe(0);
    try {
      const ordersBefore = await r.xlen(streams.paperOrders);
      const amtBefore = await paperAmt("BTCUSDT");
      const res = await quantumctlJson<CloseDoc>(url, ["close", "BTCUSDT", "--reason", "while halted"]);
      expect(res.code).toBe(3);
      expect(res.doc.action).toBe("FULL_CLOSE_PROPOSED");
      expect(res.doc.result).toMatchObject({
        decision: "BLOCKED",
        reason: "kill_switch_active",
        executed: false,
      });
      expect(await ordersOf(res.doc.planId)).toHaveLength(0);
      expect(await r.xlen(streams.paperOrders)).toBe(ordersBefore);
      expect(await paperAmt("BTCUSDT")).toBe(amtBefore);
    } finally {
      expect((await quantumctl(url, ["kill", "off"])).code).toBe(0);
    }
  });

  it("a raw SET of the kill switch is recorded as external; kill status names it", async () => {
    await r.set(keys.killSwitch, "true");
    try {
      await eventually(async () => (await r.get(keys.killSwitchBy)) === "external", {
        message: "the Apply Layer records the raw SET",
      });
      const status = await quantumctlJson<{ halted: boolean; by: string }>(url, ["kill", "status"]);
      expect(status.code).toBe(3);
      expect(status.doc).toMatchObject({ halted: true, by: "external" });
    } finally {
      expect((await quantumctl(url, ["kill", "off"])).code).toBe(0);
    }
  });
});
