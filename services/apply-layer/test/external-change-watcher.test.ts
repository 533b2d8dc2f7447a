import { decodeAuditEntry, keys, streams } from "@quantum/contracts";
import { loadScripts } from "@quantum/runtime";
import { eventually, readStream, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordExternalChange, WATCHED_CONTROL_KEYS } from "../src/external-change-watcher.js";
import { APPLY_SCRIPTS } from "../src/scripts.js";
import { startApply } from "./helpers.js";

// Kill-switch / trading-state changes made outside quantumctl (a raw redis-cli SET) are recorded in the
// audit stream as actor=external, exactly once even with several Apply Layer instances.

let redis: TestRedis;
const [KILL, STATE] = WATCHED_CONTROL_KEYS as [
  (typeof WATCHED_CONTROL_KEYS)[number],
  (typeof WATCHED_CONTROL_KEYS)[number],
];

async function audit(r: Redis) {
  return (await readStream(r, streams.audit)).map(([, f]) => {
    const d = decodeAuditEntry(f);
    if (!d.ok) throw new Error(`audit entry does not decode: ${d.error.message}`);
    return d.value;
  });
}

/** What quantumctl writes for `kill on`: the value and the last-seen value in one MULTI. */
async function quantumctlKillOn(r: Redis): Promise<void> {
  await r
    .multi()
    .set(keys.killSwitch, "true")
    .set(keys.killSwitchBy, "alice@host")
    .hset(keys.auditLastSeen, keys.killSwitch, "true")
    .exec();
}

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe("recordExternalChange (script)", () => {
  it("records a change once when many callers race, and nothing when quantumctl made it", async () => {
    const r = redis.client(3);
    loadScripts(r, [APPLY_SCRIPTS]);
    expect(await recordExternalChange(r, KILL)).toBe(false); // missing and never seen: no change
    await r.set(keys.killSwitch, "true");
    const clients = Array.from({ length: 8 }, () => redis.client(3));
    for (const c of clients) loadScripts(c, [APPLY_SCRIPTS]);
    const won = await Promise.all(clients.map((c) => recordExternalChange(c, KILL, 1_769_929_500_000)));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(await audit(r)).toEqual([
      {
        actor: "external",
        command: "external set",
        args: JSON.stringify([keys.killSwitch]),
        reason: "",
        before: "",
        after: "true",
        ts: 1769929500,
      },
    ]);
    expect(await r.mget(keys.killSwitchBy, keys.killSwitchAt)).toEqual(["external", "1769929500.000"]);
    // The runbook's raw form writes a reason with the value: it is kept and recorded with the change.
    await r.mset(keys.killSwitch, "false", keys.killSwitchReason, "raw resume INC-9");
    expect(await recordExternalChange(r, KILL)).toBe(true);
    expect((await audit(r)).at(-1)).toMatchObject({
      before: "true",
      after: "false",
      reason: "raw resume INC-9",
    });
    expect(await r.get(keys.killSwitchReason)).toBe("raw resume INC-9");
    await r.del(keys.killSwitch);
    expect(await recordExternalChange(r, KILL)).toBe(true);
    expect((await audit(r)).at(-1)).toMatchObject({ before: "false", after: "" });
    await quantumctlKillOn(r);
    expect(await recordExternalChange(r, KILL)).toBe(false);
    expect(await audit(r)).toHaveLength(3);
  });
});

describe("a running Apply Layer", () => {
  it("two instances record a raw SET of the kill switch and the trading state exactly once each", async () => {
    const r = redis.client(0);
    await r.set(keys.killSwitch, "false");
    await r.hset(keys.auditLastSeen, keys.killSwitch, "false");
    const a = await startApply(redis);
    const b = await startApply(redis);
    try {
      await r.set(keys.killSwitch, "true");
      await eventually(async () => (await audit(r)).length === 1, { message: "external kill switch entry" });
      await r.set(keys.tradingState, "HALTED");
      await eventually(async () => (await audit(r)).length === 2, {
        message: "external trading state entry",
      });
      // A quantumctl change is not external; a third raw change shows nothing was recorded twice meanwhile.
      await r.multi().set(keys.killSwitch, "false").hset(keys.auditLastSeen, keys.killSwitch, "false").exec();
      await r.set(keys.tradingState, "ACTIVE");
      await eventually(async () => (await audit(r)).length >= 3, { message: "third entry" });
      const entries = await audit(r);
      expect(entries.map((e) => [e.actor, e.args, e.before, e.after])).toEqual([
        ["external", JSON.stringify([KILL.key]), "false", "true"],
        ["external", JSON.stringify([STATE.key]), "", "HALTED"],
        ["external", JSON.stringify([STATE.key]), "HALTED", "ACTIVE"],
      ]);
      expect(await r.get(keys.killSwitchBy)).toBe("external");
      expect(await r.get(keys.tradingStateBy)).toBe("external");
      const status = await r.hget(keys.serviceStatus("apply-layer"), "allowlist");
      expect(status).not.toBeNull();
    } finally {
      await Promise.all([a.proc.stop(), b.proc.stop()]);
    }
  });

  it("finds a raw SET by polling when keyspace notifications are off", async () => {
    const quiet = await startTestRedis({ notifyKeyspaceEvents: "" });
    try {
      const r = quiet.client(0);
      await r.set(keys.killSwitch, "false");
      await r.hset(keys.auditLastSeen, keys.killSwitch, "false");
      const apply = await startApply(quiet);
      try {
        await r.set(keys.killSwitch, "true");
        const [e] = await eventually(
          async () => {
            const entries = await audit(r);
            if (entries.length === 0) throw new Error("no entry yet");
            return entries;
          },
          { message: "external entry by polling" },
        );
        expect(e).toMatchObject({ actor: "external", after: "true" });
      } finally {
        await apply.proc.stop();
      }
    } finally {
      await quiet.stop();
    }
  });
});
