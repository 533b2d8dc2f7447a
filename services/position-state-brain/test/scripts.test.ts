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

describe("permit path scripts (real Redis)", () => {
  const stream = "test:apply.plan";
  const group = "p33";

  it("readPermitState returns each symbol's snapshot, ledger, cooldown and hold; missing keys read as nil", async () => {
    await client.flushdb();
    await client.hset(keys.positionSnapshot("BTCUSDT"), "position_amt", "0.5", "side", "LONG");
    await client.hset(
      keys.positionLedger("BTCUSDT"),
      "last_known_amt",
      "0.5",
      "last_result_plan_id",
      "00000000000000aa",
    );
    await client.set(keys.cooldownLastExecTs("BTCUSDT"), "1767225600000");
    await client.set(keys.reconcileHold("ETHUSDT"), "operator");
    const stateKeys = ["BTCUSDT", "ETHUSDT"].flatMap((s) => [
      keys.positionSnapshot(s),
      keys.positionLedger(s),
      keys.cooldownLastExecTs(s),
      keys.reconcileHold(s),
    ]);
    const reply = await client.quantumReadPermitState(stateKeys.length, ...stateKeys);
    expect(reply).toEqual([
      [["position_amt", "0.5", "side", "LONG"], "0.5", "00000000000000aa", "1767225600000", null],
      [[], null, null, null, "operator"],
    ]);
    await expect(client.quantumReadPermitState(3, ...stateKeys.slice(0, 3))).rejects.toThrow(/in fours/);
    await client.set(keys.positionSnapshot("SOLUSDT"), "not a hash");
    const wrong = [keys.positionSnapshot("SOLUSDT"), "l", "c", "h"];
    await expect(client.quantumReadPermitState(4, ...wrong)).rejects.toThrow(/WRONGTYPE/);
  });

  it("writePermits sets each permit NX with its TTL and acknowledges the ids; an existing permit is kept", async () => {
    await client.flushdb();
    await client.xgroup("CREATE", stream, group, "$", "MKSTREAM");
    const ids = [
      (await client.xadd(stream, "*", "n", "1")) as string,
      (await client.xadd(stream, "*", "n", "2")) as string,
    ];
    await client.xreadgroup("GROUP", group, "c1", "COUNT", 10, "STREAMS", stream, ">");
    await client.set(keys.p33Permit("00000000000000b2"), "earlier");
    const permitKeys = [keys.p33Permit("00000000000000b1"), keys.p33Permit("00000000000000b2")];
    const reply = await client.quantumWritePermits(
      3,
      stream,
      ...permitKeys,
      group,
      "30",
      "one",
      "two",
      ...ids,
    );
    expect(reply).toEqual([1, 0]);
    expect(await client.mget(...permitKeys)).toEqual(["one", "earlier"]);
    expect(await client.ttl(permitKeys[0] as string)).toBeGreaterThan(25);
    expect(await client.xpending(stream, group)).toEqual([0, null, null, null]);
    await expect(client.quantumWritePermits(3, stream, ...permitKeys, group, "30", "one")).rejects.toThrow(
      /one value per permit/,
    );
  });

  it("a failed permit SET leaves the batch unacknowledged", async () => {
    await client.flushdb();
    await client.xgroup("CREATE", stream, group, "$", "MKSTREAM");
    const id = (await client.xadd(stream, "*", "n", "1")) as string;
    await client.xreadgroup("GROUP", group, "c1", "COUNT", 10, "STREAMS", stream, ">");
    // a TTL the server refuses makes the SET fail inside the script, before its XACK
    await expect(
      client.quantumWritePermits(2, stream, keys.p33Permit("00000000000000c1"), group, "-1", "v", id),
    ).rejects.toThrow(/expire/i);
    expect((await client.xpending(stream, group))[0]).toBe(1);
  });
});
