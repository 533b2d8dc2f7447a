import {
  type ApplyResult,
  decodeDeadLetter,
  decodePositionLedger,
  encodeApplyResult,
  fieldsToRecord,
  groups,
  keys,
  streams,
} from "@quantum/contracts";
import { clientOrderIdFor, seedPaperPosition } from "@quantum/exchange";
import { eventually, metricValue, scrapeMetrics, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Brain, newPlanId, pendingCount, startBrain } from "./helpers.js";

let redis: TestRedis;
const running: Brain[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await Promise.all(running.map((b) => b.proc.kill()));
  await redis.stop();
});

function result(symbol: string, over: Partial<ApplyResult> = {}): ApplyResult {
  return {
    planId: newPlanId(),
    symbol,
    decision: "EXECUTE",
    executed: true,
    wouldExecute: true,
    reason: "none",
    detail: "",
    stepsResults: [],
    timestamp: Date.now() / 1000,
    orderId: "123456",
    clientOrderId: "qp3-c-0123456789abcdef",
    side: "SELL",
    executedQty: "0.05",
    avgPrice: "50000",
    permitWaitMs: 12,
    mode: "paper",
    ...over,
  };
}

async function publishResult(client: Redis, fields: Record<string, string>): Promise<string> {
  const args: string[] = [];
  for (const [k, v] of Object.entries(fields)) args.push(k, v);
  const id = await client.xadd(streams.applyResult, "*", ...args);
  if (id === null) throw new Error("no id");
  return id;
}

/** Wait until the ledger group has delivered everything up to `id` and acknowledged it all. */
async function drained(client: Redis, id: string): Promise<void> {
  await eventually(async () => {
    const info = (await client.call("XINFO", "GROUPS", streams.applyResult)) as unknown[][];
    const g = info.find((x) => x[1] === groups.p33Ledger);
    if (g === undefined) return false;
    const delivered = String(g[g.indexOf("last-delivered-id") + 1]);
    return delivered === id && (await pendingCount(client, streams.applyResult, groups.p33Ledger)) === 0;
  });
}

async function ledgerAmt(client: Redis, symbol: string): Promise<string | null> {
  return client.hget(keys.positionLedger(symbol), "last_known_amt");
}

describe("ledger (group p33_ledger on apply.result)", () => {
  it("initialises from the snapshot, applies an executed result exactly once even when redelivered", async () => {
    const db = 1;
    const client = redis.client(db);
    await seedPaperPosition(client, "BTCUSDT", "0.123", "50000");
    const brain = await startBrain(redis, db);
    running.push(brain);
    expect(await client.hgetall(keys.positionLedger("BTCUSDT"))).toMatchObject({
      last_known_amt: "0.123",
      source: "p33_init",
    });

    const sell = result("BTCUSDT");
    const sellId = await publishResult(client, encodeApplyResult(sell));
    await eventually(async () => (await ledgerAmt(client, "BTCUSDT")) === "0.073");
    const ledger = decodePositionLedger(await client.hgetall(keys.positionLedger("BTCUSDT")));
    expect(ledger.ok && ledger.value).toMatchObject({
      lastKnownAmt: "0.073",
      lastOrderId: "123456",
      lastResultPlanId: sell.planId,
      lastExecutedQty: "0.05",
      lastSide: "SELL",
      source: "p33",
    });
    expect(await client.hget(keys.positionLedger("BTCUSDT"), "last_result_id")).toBe(sellId);

    // not executed, and malformed: no ledger change (the malformed one is dead-lettered)
    await publishResult(
      client,
      encodeApplyResult(
        result("BTCUSDT", {
          executed: false,
          decision: "BLOCKED",
          reason: "governor_denied",
          side: undefined,
          executedQty: undefined,
          orderId: undefined,
          clientOrderId: undefined,
          avgPrice: undefined,
        }),
      ),
    );
    const badId = await publishResult(client, { ...encodeApplyResult(result("BTCUSDT")), executed: "maybe" });
    await drained(client, badId);
    expect(await ledgerAmt(client, "BTCUSDT")).toBe("0.073");
    const dead = (await client.xrange(streams.deadLetter, "-", "+")).map(([, f]) =>
      decodeDeadLetter(fieldsToRecord(f)),
    );
    expect(dead.some((d) => d.ok && d.value.id === badId && d.value.stream === streams.applyResult)).toBe(
      true,
    );

    // redelivery of every entry of the stream to the group: nothing is applied twice
    await client.call("XGROUP", "SETID", streams.applyResult, groups.p33Ledger, "0");
    const lastId = (await client.xrevrange(streams.applyResult, "+", "-", "COUNT", 1))[0]?.[0] as string;
    await drained(client, lastId);
    expect(await ledgerAmt(client, "BTCUSDT")).toBe("0.073");

    // an UPDATE_SL result (protective stop placed, nothing filled) leaves the ledger alone
    const stop = result("BTCUSDT", { executedQty: "0.073" });
    const stopId = await publishResult(
      client,
      encodeApplyResult({ ...stop, clientOrderId: clientOrderIdFor(stop.planId, "stop") }),
    );
    await drained(client, stopId);
    expect(await ledgerAmt(client, "BTCUSDT")).toBe("0.073");

    // a later BUY adds
    await publishResult(client, encodeApplyResult(result("BTCUSDT", { side: "BUY", executedQty: "0.007" })));
    await eventually(async () => (await ledgerAmt(client, "BTCUSDT")) === "0.08");
    const text = await scrapeMetrics(brain.port);
    expect(metricValue(text, "p33_ledger_position_amt", { symbol: "BTCUSDT" })).toBe(0.08);
  });

  it("operator view and position_mismatch_seconds follow ledger vs exchange", async () => {
    const db = 2;
    const client = redis.client(db);
    await seedPaperPosition(client, "BTCUSDT", "0.1", "50000");
    const brain = await startBrain(redis, db);
    running.push(brain);
    await eventually(async () => (await client.hget(keys.positionView("BTCUSDT"), "exchange_amt")) === "0.1");
    expect(await client.hget(keys.positionView("BTCUSDT"), "mismatch_since")).toBe("");

    await publishResult(client, encodeApplyResult(result("BTCUSDT", { executedQty: "0.04" })));
    const since = await eventually(async () => {
      const v = await client.hgetall(keys.positionView("BTCUSDT"));
      return v.ledger_amount === "0.06" && v.mismatch_since !== "" ? Number(v.mismatch_since) : false;
    });
    expect(since).toBeGreaterThan(Date.now() / 1000 - 10);
    await eventually(
      async () =>
        metricValue(await scrapeMetrics(brain.port), "position_mismatch_seconds", { symbol: "BTCUSDT" }) > 0,
    );

    // the exchange catches up (the fill lands): they agree again
    await seedPaperPosition(client, "BTCUSDT", "0.06", "50000");
    await eventually(async () => (await client.hget(keys.positionView("BTCUSDT"), "mismatch_since")) === "");
    await eventually(
      async () =>
        metricValue(await scrapeMetrics(brain.port), "position_mismatch_seconds", { symbol: "BTCUSDT" }) ===
        0,
    );
  });

  it("a missing ledger is initialised from the snapshot when a result arrives (before or after the fill)", async () => {
    const db = 3;
    const client = redis.client(db);
    await seedPaperPosition(client, "BTCUSDT", "0.2", "50000");
    const brain = await startBrain(redis, db, { P33_POLL_SEC: "3600" });
    running.push(brain);
    const snapTs = Number(await client.hget(keys.positionSnapshot("BTCUSDT"), "ts_epoch"));

    await client.del(keys.positionLedger("BTCUSDT"));
    await publishResult(
      client,
      encodeApplyResult(result("BTCUSDT", { executedQty: "0.05", timestamp: snapTs + 1 })),
    );
    await eventually(async () => (await ledgerAmt(client, "BTCUSDT")) === "0.15"); // snapshot predates the fill

    await client.del(keys.positionLedger("BTCUSDT"));
    await publishResult(
      client,
      encodeApplyResult(result("BTCUSDT", { executedQty: "0.05", timestamp: snapTs - 1 })),
    );
    await eventually(async () => (await ledgerAmt(client, "BTCUSDT")) === "0.2"); // snapshot already has it
  });
});
