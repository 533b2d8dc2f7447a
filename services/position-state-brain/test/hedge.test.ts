import { keys } from "@quantum/contracts";
import {
  eventually,
  type FakeBinance,
  startFakeBinance,
  startTestRedis,
  type TestRedis,
} from "@quantum/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Brain,
  fakeTestnetEnv,
  makePlan,
  permitRaw,
  publishPlan,
  readPermit,
  startBrain,
} from "./helpers.js";

let redis: TestRedis;
const running: Brain[] = [];
const fakes: FakeBinance[] = [];
const API = { apiKey: "hedge-key-123", apiSecret: "hedge-secret-456" };

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await Promise.all(running.map((b) => b.proc.kill()));
  await Promise.all(fakes.map((f) => f.close()));
  await redis.stop();
});

/** A hedge-mode venue with the given legs of BTCUSDT, and P3.3 reading it on its own database. */
async function hedgeBrain(db: number, long: string, short: string): Promise<FakeBinance> {
  const fake = await startFakeBinance({
    ...API,
    dualSidePosition: true,
    positions: [
      { symbol: "BTCUSDT", positionAmt: long, markPrice: "60000", positionSide: "LONG" },
      { symbol: "BTCUSDT", positionAmt: short, markPrice: "60000", positionSide: "SHORT" },
    ],
  });
  fakes.push(fake);
  const brain = await startBrain(redis, db, fakeTestnetEnv(fake.baseUrl, API));
  running.push(brain);
  return fake;
}

describe("hedge mode: P3.3 keeps the LONG and SHORT legs apart", () => {
  it("LONG 2 / SHORT -1: a close without a leg is ambiguous; naming a leg sizes that leg", async () => {
    const db = 1;
    const client = redis.client(db);
    await hedgeBrain(db, "2", "-1");

    const unnamed = makePlan("BTCUSDT", { action: "FULL_CLOSE_PROPOSED" });
    await publishPlan(client, unnamed);
    expect(await readPermit(client, unnamed.planId)).toMatchObject({
      allow: false,
      reason: "ambiguous_hedge_position",
      context: { long_amt: "2", short_amt: "-1" },
    });

    const long = makePlan("BTCUSDT", { action: "FULL_CLOSE_PROPOSED", positionSide: "LONG" });
    await publishPlan(client, long);
    const raw = JSON.parse(await permitRaw(client, long.planId)) as Record<string, unknown>;
    expect(raw).toMatchObject({
      allow: true,
      safe_qty: "2.000",
      exchange_position_amt: "2",
      position_side: "LONG",
      venue: "testnet",
      ledger_amt: "1",
    });

    const short = makePlan("BTCUSDT", { action: "PARTIAL_50", positionSide: "SHORT" });
    await publishPlan(client, short);
    expect(await readPermit(client, short.planId)).toMatchObject({
      allow: true,
      safeQty: "0.500",
      exchangePositionAmt: "-1",
      positionSide: "SHORT",
    });

    // the snapshot keeps the legs next to the net amount other readers use
    expect(
      await client.hmget(keys.positionSnapshot("BTCUSDT"), "position_amt", "long_amt", "short_amt"),
    ).toEqual(["1", "2", "-1"]);
  });

  it("equal legs are no longer denied no_position; a single open leg needs no name", async () => {
    const db = 2;
    const client = redis.client(db);
    const fake = await hedgeBrain(db, "1.5", "-1.5");
    const named = makePlan("BTCUSDT", { action: "FULL_CLOSE_PROPOSED", positionSide: "SHORT" });
    await publishPlan(client, named);
    expect(await readPermit(client, named.planId)).toMatchObject({
      allow: true,
      safeQty: "1.500",
      exchangePositionAmt: "-1.5",
      positionSide: "SHORT",
      ledgerAmt: "0",
    });

    fake.setPosition("BTCUSDT", "0", "60000", { positionSide: "SHORT" });
    await eventually(async () => {
      const s = await client.hget(keys.positionSnapshot("BTCUSDT"), "short_amt");
      if (s !== "0") throw new Error(`short leg still ${s}`);
    });
    await client.hset(keys.positionLedger("BTCUSDT"), "last_known_amt", "1.5");
    const unnamed = makePlan("BTCUSDT", { action: "PARTIAL_50" });
    await publishPlan(client, unnamed);
    expect(await readPermit(client, unnamed.planId)).toMatchObject({
      allow: true,
      safeQty: "0.750",
      exchangePositionAmt: "1.5",
      positionSide: "LONG",
    });
    const closedLeg = makePlan("BTCUSDT", { action: "FULL_CLOSE_PROPOSED", positionSide: "SHORT" });
    await publishPlan(client, closedLeg);
    expect(await readPermit(client, closedLeg.planId)).toMatchObject({
      allow: false,
      reason: "no_position",
      context: { exchange_amt: "0", position_side: "SHORT" },
    });
  });
});
