import { keys } from "@quantum/contracts";
import { loadScripts } from "@quantum/runtime";
import { startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyLedgerResult, initLedgerArgs, P33_SCRIPTS, parseInitLedgerReply } from "../src/scripts.js";

let redis: TestRedis;
let client: Redis;
const ledgerKey = keys.positionLedger("BTCUSDT");
const appliedKey = keys.p33LedgerApplied("BTCUSDT");

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.client(0);
  loadScripts(client, [P33_SCRIPTS]);
});
afterAll(async () => {
  await redis.stop();
});

function apply(resultId: string, expectedAmt: string | null, amt: string) {
  return applyLedgerResult(client, {
    ledgerKey,
    appliedKey,
    resultId,
    expectedAmt,
    fields: { last_known_amt: amt, last_result_id: resultId, source: "p33" },
  });
}

describe("ledger scripts (real Redis)", () => {
  it("initLedger writes only when there is no last_known_amt", async () => {
    await client.del(ledgerKey);
    const init = (amt: string) =>
      client.quantumInitLedger(...initLedgerArgs(ledgerKey, { last_known_amt: amt, source: "p33_init" }));
    expect(parseInitLedgerReply(await init("0.5"))).toEqual({ initialised: true, amt: "0.5" });
    expect(parseInitLedgerReply(await init("0.9"))).toEqual({ initialised: false, amt: "0.5" });
    await Promise.all([init("1"), init("2")]);
    expect(await client.hget(ledgerKey, "last_known_amt")).toBe("0.5");
  });

  it("applies each result id once, detects concurrent changes, tolerates out-of-order ids", async () => {
    await client.del(ledgerKey, appliedKey);
    await client.hset(ledgerKey, "last_known_amt", "1");
    expect(await apply("200-0", "1", "0.9")).toBe("applied");
    expect(await apply("200-0", "0.9", "0.8")).toBe("already_applied");
    expect(await apply("300-0", "1", "0.7")).toBe("conflict"); // read a stale amount
    expect(await client.hget(ledgerKey, "last_known_amt")).toBe("0.9");
    // an older id that was never applied (another instance was slower) is still applied once
    expect(await apply("100-5", "0.9", "0.85")).toBe("applied");
    expect(await apply("100-5", "0.85", "0.8")).toBe("already_applied");
    expect(await client.hgetall(ledgerKey)).toMatchObject({
      last_known_amt: "0.85",
      last_result_id: "200-0",
    });
    expect(await client.zrange(appliedKey, 0, -1)).toEqual(["100-5", "200-0"]);
    // concurrent attempts on the same result: exactly one applies
    const outcomes = await Promise.all([apply("400-0", "0.85", "0.8"), apply("400-0", "0.85", "0.8")]);
    expect(outcomes.sort()).toEqual(["already_applied", "applied"]);
  });

  it("without the applied-id memory, ids up to last_result_id count as applied", async () => {
    await client.del(ledgerKey, appliedKey);
    await client.hset(ledgerKey, { last_known_amt: "1", last_result_id: "500-0" });
    expect(await apply("499-9", "1", "0.5")).toBe("already_applied");
    expect(await apply("500-1", "1", "0.5")).toBe("applied");
  });
});
