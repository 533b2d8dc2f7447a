import { computePlanId, decodeHarvestProposal, keys, streams } from "@quantum/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  closeProposalAt,
  entriesForPlan,
  readStream,
  startTestRedis,
  streamProposal,
  type TestRedis,
  writeProposalHash,
} from "../src/index.js";

describe("flow helpers", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it("writes both intake forms as the contract decodes them, with distinct plan_ids per time", async () => {
    const r = redis.client();
    const a = closeProposalAt("BTCUSDT", Date.parse("2026-02-01T06:50:00Z"));
    const b = closeProposalAt("BTCUSDT", Date.parse("2026-02-01T06:50:01Z"));
    expect(computePlanId(a)).not.toBe(computePlanId(b));
    expect(await writeProposalHash(r, a)).toBe(computePlanId(a));
    const decoded = decodeHarvestProposal(await r.hgetall(keys.harvestProposal("BTCUSDT")), "BTCUSDT");
    expect(decoded.ok && decoded.value.computedAtUtc).toBe("2026-02-01T06:50:00Z");
    expect(await streamProposal(r, b)).toBe(computePlanId(b));
    expect(await r.xlen(streams.harvestProposal)).toBe(1);
  });

  it("reads long streams in pages and filters by plan_id", async () => {
    const r = redis.client(1);
    for (let i = 0; i < 2500; i++)
      await r.xadd("s", "*", "plan_id", i % 2 === 0 ? "even" : "odd", "n", String(i));
    const all = await readStream(r, "s");
    expect(all).toHaveLength(2500);
    expect(all[2499]?.[1].n).toBe("2499");
    expect(await entriesForPlan(r, "s", "odd")).toHaveLength(1250);
  });
});
