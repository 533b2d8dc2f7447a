import { encodeApplyPlan, groups, keys, streams } from "@quantum/contracts";
import { seedPaperPosition } from "@quantum/exchange";
import { eventually, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Brain, makePlan, pendingCount, startBrain } from "./helpers.js";

/** A command the server ran, and whether a script ran it. */
interface Seen {
  readonly args: string[];
  readonly fromScript: boolean;
}

/** Every command the server runs from now on (client commands and those run by scripts). */
async function watchCommands(redis: TestRedis): Promise<{ seen: Seen[]; stop: () => Promise<void> }> {
  const seen: Seen[] = [];
  const monitor: Redis = await redis.client(0).monitor();
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    seen.push({ args: [args[0]?.toLowerCase() ?? "", ...args.slice(1)], fromScript: source === "lua" });
  });
  return { seen, stop: async () => void (await monitor.disconnect()) };
}

let redis: TestRedis;
let brain: Brain | null = null;

beforeAll(async () => {
  redis = await startTestRedis(); // its own server: the monitor sees only this test's commands
});
afterAll(async () => {
  await brain?.proc.kill();
  await redis.stop();
});

describe("P3.3 permit path: one read and one write per batch", () => {
  it("reads the batch's state with one command and writes every permit with its XACK in one more", async () => {
    const r = redis.client(0);
    const symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT"];
    for (const s of symbols) await seedPaperPosition(r, s, "2", "100");
    brain = await startBrain(redis, 0, { P33_ALLOWLIST: symbols.join(",") });
    await eventually(async () => (await r.exists(...symbols.map((s) => keys.positionLedger(s)))) === 3);

    const plans = Array.from({ length: 30 }, (_, i) => makePlan(symbols[i % 3] as string));
    const skip = makePlan("BTCUSDT", { decision: "SKIP", reasonCodes: ["action_hold"] });
    const watch = await watchCommands(redis);
    try {
      const tx = r.multi(); // one transaction: the waiting read returns the whole batch at once
      for (const p of [...plans, skip])
        tx.xadd(streams.applyPlan, "*", ...Object.entries(encodeApplyPlan(p)).flat());
      await tx.exec();
      await eventually(async () => (await r.exists(...plans.map((p) => keys.p33Permit(p.planId)))) === 30);
      await eventually(async () => (await pendingCount(r, streams.applyPlan, groups.p33)) === 0);
    } finally {
      await watch.stop();
    }
    const isPermitKey = (k: string | undefined) => k?.startsWith(keys.p33Permit("")) === true;
    const client = watch.seen.filter((c) => !c.fromScript);
    const scripted = watch.seen.filter((c) => c.fromScript);
    // nothing per plan or per symbol from the client: no SET of a permit, no XACK, no read of a snapshot
    expect(client.filter((c) => c.args[0] === "set" && isPermitKey(c.args[1]))).toEqual([]);
    expect(client.filter((c) => c.args[0] === "xack")).toEqual([]);
    expect(
      client.filter((c) => c.args[0] === "hgetall" && c.args[1]?.includes(":position:snapshot:")),
    ).toEqual([]);
    // EVALSHA <sha> <numkeys> <first key> ...: one state read (4 keys per symbol) and one permit write
    const scripts = client.filter((c) => c.args[0] === "evalsha" || c.args[0] === "eval");
    expect(
      scripts.filter((c) => c.args[3] === keys.positionSnapshot("BTCUSDT") && c.args[2] === "12"),
    ).toHaveLength(1);
    expect(scripts.filter((c) => c.args[3] === streams.applyPlan)).toHaveLength(1);
    // inside the scripts: one SET NX EX per permit, and every entry of the batch acknowledged, once
    const sets = scripted.filter((c) => c.args[0] === "set" && isPermitKey(c.args[1]));
    expect(sets).toHaveLength(30);
    expect(sets.every((c) => c.args.slice(3).join(" ").toUpperCase() === "EX 60 NX")).toBe(true);
    const acked = scripted.filter((c) => c.args[0] === "xack").flatMap((c) => c.args.slice(3));
    expect(acked).toHaveLength(31);
    expect(new Set(acked).size).toBe(31);
  });
});
