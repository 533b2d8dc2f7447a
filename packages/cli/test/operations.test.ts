import { hostname } from "node:os";
import {
  decodeAuditEntry,
  decodeHarvestProposal,
  encodeApplyResult,
  encodePositionLedger,
  encodePositionSnapshot,
  keys,
  streams,
} from "@quantum/contracts";
import { freePort, readStream, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../src/program.js";
import { requireBuiltCli, runCtl, writeServiceStatus } from "./helpers.js";

// The new operator commands through the real binary (dist/main.js) against a real Redis: every mutating
// command leaves exactly one audit entry; bad input is refused with a clear message, the documented exit
// code and nothing written.

let redis: TestRedis;
let r: Redis;
let url: string;
const PLAN = "ba3cbf84bf17f3a2";
const ACTOR = `alice@${hostname()}`;

/**
 * quantumctl through its run() entry (in-process: each call would otherwise start a node process), with the
 * actor `<USER>@<this host>` as the binary computes it. The process form is used below where it matters.
 */
async function ctl(args: string[], env: Record<string, string> = {}, redisUrl: string | null = url) {
  const out = { code: 0, stdout: "", stderr: "" };
  const user = env.USER ?? "alice";
  out.code = await runCli([...args, ...(redisUrl === null ? [] : ["--redis-url", redisUrl])], {
    stdout: (t) => {
      out.stdout += t;
    },
    stderr: (t) => {
      out.stderr += t;
    },
    env,
    isTTY: false,
    defaultActor: `${user}@${hostname()}`,
    onInterrupt: () => () => undefined,
  });
  return out;
}

/** The built binary as a separate process. */
const ctlProcess = (args: string[], env: Record<string, string> = {}) =>
  runCtl([...args, "--redis-url", url], { USER: "alice", ...env });

/** Everything in the database but the service status hashes (heartbeats): for "nothing written". */
async function dump(): Promise<string> {
  const names = (await r.keys("*")).filter((k) => !k.startsWith("quantum:service:")).sort();
  const parts: string[] = [];
  for (const k of names) {
    const type = await r.type(k);
    const v =
      type === "stream"
        ? String(await r.xlen(k))
        : type === "hash"
          ? JSON.stringify(await r.hgetall(k))
          : type === "string"
            ? await r.get(k)
            : type;
    parts.push(`${k}=${v}`);
  }
  return parts.join("\n");
}

async function auditEntries() {
  return (await readStream(r, streams.audit)).map(([, f]) => {
    const d = decodeAuditEntry(f);
    if (!d.ok) throw new Error(`audit entry does not decode: ${d.error.message}`);
    return d.value;
  });
}

async function snapshot(symbol: string, amt: string, ageSec: number): Promise<void> {
  await r.hset(
    keys.positionSnapshot(symbol),
    encodePositionSnapshot({
      positionAmt: amt,
      side: amt.startsWith("-") ? "SHORT" : "LONG",
      entryPrice: "60000",
      markPrice: "60010",
      unrealizedPnl: "0",
      leverage: "5",
      tsEpoch: Date.now() / 1000 - ageSec,
      source: "paper",
    }),
  );
}

/** A live Apply Layer's status hash with its allowlist (a fresh heartbeat: call it again before each step). */
async function applyLayerStatus(mode = "paper"): Promise<void> {
  await writeServiceStatus(r, "apply-layer", { mode, venue: mode });
  await r.hset(keys.serviceStatus("apply-layer"), "allowlist", "BTCUSDT,ETHUSDT");
}

beforeAll(async () => {
  requireBuiltCli();
  redis = await startTestRedis();
  r = redis.client();
  url = redis.url(0);
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  await r.flushdb();
});

describe("audit trail", () => {
  it("every mutating command leaves exactly one entry with actor, command, args, before and after", async () => {
    await applyLayerStatus();
    await snapshot("BTCUSDT", "0.400", 1);
    await r.hset(
      keys.positionLedger("BTCUSDT"),
      encodePositionLedger({ lastKnownAmt: "0.3", updatedAt: 1, source: "p33" }),
    );
    const steps: Array<{ args: string[]; code: number; command: string; before: string; after: string }> = [
      { args: ["kill", "on", "--reason", "drill"], code: 0, command: "kill on", before: "", after: "true" },
      { args: ["kill", "off"], code: 0, command: "kill off", before: "true", after: "false" },
      {
        args: ["state", "set", "reduce_only", "--reason", "risk"],
        code: 0,
        command: "state set",
        before: "",
        after: "REDUCE_ONLY",
      },
      {
        args: ["ledger", "set", "BTCUSDT", "0.25"],
        code: 0,
        command: "ledger set",
        before: "0.3",
        after: "0.25",
      },
      {
        args: ["ledger", "adopt", "BTCUSDT"],
        code: 0,
        command: "ledger adopt",
        before: "0.25",
        after: "0.400",
      },
      {
        args: ["permit", "grant", PLAN, "--symbol", "BTCUSDT"],
        code: 0,
        command: "permit grant",
        before: "",
        after: "",
      },
      {
        args: ["hold", "on", "ETHUSDT", "--reason", "manual fix"],
        code: 0,
        command: "hold on",
        before: "",
        after: "",
      },
      { args: ["hold", "off", "ETHUSDT"], code: 0, command: "hold off", before: "", after: "" },
      // No Apply Layer consumes the proposal here: the command times out (4) after writing it.
      {
        args: ["close", "BTCUSDT", "--reason", "test", "--timeout", "1"],
        code: 4,
        command: "close",
        before: "",
        after: "",
      },
    ];
    for (const [i, step] of steps.entries()) {
      // P3.3 keeps the snapshot fresh; here it is written just before it is adopted.
      if (step.command === "ledger adopt") await snapshot("BTCUSDT", "0.400", 0);
      await applyLayerStatus();
      const res = await ctl(step.args);
      expect(res.code, `${step.args.join(" ")}: ${res.stderr}`).toBe(step.code);
      const entries = await auditEntries();
      expect(entries, step.args.join(" ")).toHaveLength(i + 1);
      const e = entries[i];
      expect(e).toMatchObject({ actor: ACTOR, command: step.command });
      if (step.before !== "") expect(e?.before).toBe(step.before);
      if (step.after !== "") expect(e?.after).toBe(step.after);
    }
    const [, , state, , , grant, holdOn, holdOff, close] = await auditEntries();
    expect(state?.reason).toBe("risk");
    expect(JSON.parse(grant?.args ?? "[]")).toEqual([PLAN, "BTCUSDT"]);
    expect(JSON.parse(holdOn?.after ?? "{}")).toMatchObject({ reason: "manual fix", by: ACTOR });
    expect(holdOff?.before).toBe(holdOn?.after);
    expect(holdOff?.after).toBe("");
    expect(JSON.parse(close?.after ?? "{}")).toMatchObject({ action: "FULL_CLOSE_PROPOSED" });
    // quantumctl's own kill / state changes are the last-seen values: not mistaken for external ones.
    expect(await r.hgetall(keys.auditLastSeen)).toEqual({
      [keys.killSwitch]: "false",
      [keys.tradingState]: "REDUCE_ONLY",
    });
    const list = await ctl(["audit", "--limit", "3", "--json"]);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).rows.map((x: { value: { command: string } }) => x.value.command)).toEqual([
      "close",
      "hold off",
      "hold on",
    ]);
  });

  it("kill status names whoever made the current value, never the one who last resumed", async () => {
    expect((await ctl(["kill", "on", "--reason", "incident"], { USER: "alice" })).code).toBe(0);
    expect((await ctl(["kill", "off"], { USER: "bob" })).code).toBe(0);
    // A raw SET outside quantumctl, no Apply Layer running to record it yet: the halt is not bob's.
    await r.set(keys.killSwitch, "true");
    const raw = await ctlProcess(["kill", "status", "--json", "--mode", "paper"]);
    expect(raw.code).toBe(3);
    expect(JSON.parse(raw.stdout)).toMatchObject({
      halted: true,
      by: "unknown (changed outside quantumctl)",
      reason: null,
    });
    expect((await ctlProcess(["kill", "on", "--reason", "again"], { USER: "carol" })).code).toBe(0);
    const status = await ctl(["kill", "status", "--mode", "paper"]);
    expect(status.code).toBe(3);
    expect(status.stdout).toContain("kill switch ON — trading halted");
    expect(status.stdout).toMatch(/by\s+carol@/);
    expect(status.stdout).toMatch(/reason\s+again/);
  });
});

describe("refusals: clear message, documented exit code, nothing written", () => {
  it("kill with no subcommand (and every other command group) is a usage error", async () => {
    for (const group of ["kill", "state", "permit", "ledger", "hold"]) {
      // The binary for kill (what a script runs), run() for the others; no --redis-url: a group takes no options.
      const res = group === "kill" ? await runCtl([group]) : await ctl([group], {}, null);
      expect(res.code, group).toBe(2);
      expect(res.stderr).toContain(`${group}: a subcommand is required`);
    }
    expect(await dump()).toBe("");
  });

  it("permit grant is refused when no live service reports a mode", async () => {
    const res = await ctl(["permit", "grant", PLAN, "--symbol", "BTCUSDT"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("no running service reports its mode");
    expect(await dump()).toBe("");
  });

  it("bad input for every new command", async () => {
    await applyLayerStatus("production");
    await snapshot("BTCUSDT", "0.400", 60);
    const before = await dump();
    const cases: Array<{ args: string[]; code: number; message: string }> = [
      { args: ["close", "DOGEUSDT", "--reason", "x"], code: 2, message: "unknown symbol DOGEUSDT" },
      { args: ["close", "BTC-USDT", "--reason", "x"], code: 2, message: 'not a symbol: "BTC-USDT"' },
      { args: ["close", "BTCUSDT", "--fraction", "0.3", "--reason", "x"], code: 2, message: "--fraction" },
      { args: ["close", "BTCUSDT"], code: 2, message: "--reason TEXT is required in production" },
      { args: ["hold", "on", "BTCUSDT"], code: 2, message: "--reason TEXT is required" },
      { args: ["hold", "on", "DOGEUSDT", "--reason", "x"], code: 2, message: "unknown symbol DOGEUSDT" },
      { args: ["hold", "off", "btc/usdt"], code: 2, message: "not a symbol" },
      { args: ["ledger", "set", "BTCUSDT", "1e3"], code: 2, message: "amount must be a signed decimal" },
      { args: ["ledger", "adopt", "BTCUSDT"], code: 2, message: "s old (stale after 10s)" },
      { args: ["ledger", "adopt", "ETHUSDT"], code: 2, message: "no exchange snapshot for ETHUSDT" },
      { args: ["results", "--limit", "0"], code: 2, message: "--limit" },
      { args: ["results", "--since", "yesterday"], code: 2, message: "--since" },
      { args: ["alerts", "--limit", "2.5"], code: 2, message: "--limit" },
      { args: ["state", "set", "PAUSED"], code: 2, message: "expected one of" },
    ];
    for (const c of cases) {
      await applyLayerStatus("production");
      const res = await ctl(c.args);
      expect(res.code, `${c.args.join(" ")}: ${res.stderr}`).toBe(c.code);
      expect(res.stderr, c.args.join(" ")).toContain(c.message);
    }
    expect(await dump()).toBe(before);
  });

  it("Redis down: exit 1 and a clear message for every new command", async () => {
    const dead = `redis://127.0.0.1:${await freePort()}/0`;
    const binary = await runCtl(["close", "BTCUSDT", "--reason", "x", "--redis-url", dead]);
    expect(binary.code).toBe(1);
    expect(binary.stderr).toContain("cannot reach Redis");
    for (const args of [
      ["close", "BTCUSDT", "--reason", "x"],
      ["hold", "on", "BTCUSDT", "--reason", "x"],
      ["ledger", "adopt", "BTCUSDT"],
      ["positions"],
      ["results"],
      ["deadletters"],
      ["alerts"],
      ["audit"],
    ]) {
      const res = await ctl(args, {}, dead);
      expect(res.code, args.join(" ")).toBe(1);
      expect(res.stderr).toContain("cannot reach Redis");
    }
  });
});

describe("reading commands", () => {
  it("positions: exchange, ledger, exact drift, snapshot age, hold and cooldown per allowlisted symbol", async () => {
    await applyLayerStatus();
    await snapshot("BTCUSDT", "0.400", 2);
    await r.hset(
      keys.positionLedger("BTCUSDT"),
      encodePositionLedger({ lastKnownAmt: "0.3", updatedAt: 1, source: "p33" }),
    );
    await r.set(keys.reconcileHold("ETHUSDT"), "manual");
    await r.set(keys.cooldownLastExecTs("BTCUSDT"), String(Date.now() - 5000));
    const res = await ctl(["positions", "--json"], { P33_COOLDOWN_SEC: "20" });
    expect(res.code).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.symbols).toBe("allowlist");
    expect(doc.timing).toMatchObject({ cooldownSec: 20, staleThresholdSec: 10, source: "environment" });
    const [btc, eth] = doc.rows;
    expect(btc).toMatchObject({
      symbol: "BTCUSDT",
      exchangeAmt: "0.400",
      ledgerAmt: "0.3",
      drift: "0.1",
      stale: false,
      hold: null,
    });
    expect(btc.cooldownRemainingSec).toBeGreaterThan(10);
    expect(btc.cooldownRemainingSec).toBeLessThanOrEqual(15);
    expect(eth).toMatchObject({ symbol: "ETHUSDT", exchangeAmt: null, hold: "manual", stale: true });
    const text = await ctl(["positions"]);
    expect(text.stdout).toMatch(/BTCUSDT\s+0\.400\s+0\.3\s+0\.1/);
  });

  it("results filters by symbol and time, newest first, up to --limit; deadletters and alerts list", async () => {
    const base = {
      executed: false,
      wouldExecute: false,
      detail: "",
      stepsResults: [],
      timestamp: 1,
    } as const;
    const add = (symbol: string, planId: string, idMs: number) =>
      r.xadd(
        streams.applyResult,
        `${idMs}-0`,
        ...Object.entries(
          encodeApplyResult({ ...base, planId, symbol, decision: "BLOCKED", reason: "kill_switch_active" }),
        ).flat(),
      );
    await add("BTCUSDT", "000000000000000a", 1_000_000);
    await add("ETHUSDT", "000000000000000b", 2_000_000);
    await add("BTCUSDT", "000000000000000c", 3_000_000);
    await add("BTCUSDT", "000000000000000d", 4_000_000);
    const res = await ctl(["results", "--symbol", "btcusdt", "--since", "1500", "--limit", "2", "--json"]);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout).rows.map((x: { value: { planId: string } }) => x.value.planId)).toEqual([
      "000000000000000d",
      "000000000000000c",
    ]);
    const text = await ctl(["results", "--symbol", "BTCUSDT"]);
    expect(text.stdout).toMatch(/BTCUSDT\s+000000000000000a\s+BLOCKED\s+kill_switch_active/);
    expect((await ctl(["deadletters"])).stdout).toContain("no entries");
    expect((await ctl(["alerts", "--json"])).code).toBe(0);
  });
});

describe("close", () => {
  it("writes one operator proposal the Apply Layer accepts, with a fresh plan id each time", async () => {
    await applyLayerStatus();
    const a = await ctl(["close", "ETHUSDT", "--fraction", "0.5", "--timeout", "1", "--json"]);
    const b = await ctl(["close", "ETHUSDT", "--fraction", "0.5", "--timeout", "1", "--json"]);
    expect([a.code, b.code]).toEqual([4, 4]);
    const entries = await readStream(r, streams.harvestProposal);
    expect(entries).toHaveLength(2);
    const [first] = entries;
    expect(first?.[1]).toMatchObject({ source: "operator", operator: ACTOR });
    const decoded = decodeHarvestProposal(first?.[1]);
    expect(decoded.ok && decoded.value).toMatchObject({ symbol: "ETHUSDT", action: "PARTIAL_50" });
    expect(JSON.parse(a.stdout).planId).not.toBe(JSON.parse(b.stdout).planId);
    expect(JSON.parse(a.stdout)).toMatchObject({ result: null, resultId: null, mode: "paper" });
  });
});
