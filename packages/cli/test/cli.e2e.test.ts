import { spawn } from "node:child_process";
import { keys } from "@quantum/contracts";
import { eventually, freePort, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  CLI_MAIN,
  healthServer,
  requireBuiltCli,
  runCtl,
  writeServiceStatus,
  writeWindow5m,
} from "./helpers.js";

let redis: TestRedis;
let r: Redis;
let url: string;
const PLAN = "ba3cbf84bf17f3a2";
const ALL = ["apply-layer", "position-state-brain", "decision-intelligence"];

/** quantumctl with --redis-url of the test server. */
const ctl = (args: string[], env: Record<string, string> = {}) => runCtl([...args, "--redis-url", url], env);

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

describe("usage and failures", () => {
  it("documents exit codes in --help (exit 0); no command or a bad one is a usage error (2)", async () => {
    const help = await runCtl(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Exit codes:");
    expect(help.stdout).toMatch(/dashboard d\s+at least one gate is above the threshold/);
    expect((await runCtl([])).code).toBe(2);
    expect((await runCtl(["frobnicate"])).code).toBe(2);
    const badQuery = await runCtl(["dashboard", "x"]);
    expect(badQuery.code).toBe(2);
    expect(badQuery.stderr).toContain("Allowed choices are a, b, c, d, e, all");
    expect((await ctl(["dashboard", "a", "extra"])).code).toBe(2);
    expect((await runCtl(["mode", "--redis-url", "http://x"])).code).toBe(2);
  });

  it("exits 1 fast with a clear message when Redis is unreachable (text and --json)", async () => {
    const dead = `redis://127.0.0.1:${await freePort()}/0`;
    const res = await runCtl(["kill", "status", "--redis-url", dead]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`quantumctl: cannot reach Redis at ${dead}`);
    expect(res.stderr).toContain("ECONNREFUSED");
    // No reconnect loop: one refused connection ends the command (the bound leaves room for a cold node
    // start on a loaded machine; a retrying client would run until the test's own timeout).
    expect(res.ms).toBeLessThan(10_000);
    const json = await runCtl(["dashboard", "d", "--json", "--redis-url", dead]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: "redis_unreachable" } });
  });

  it("uses REDIS_URL when --redis-url is absent and never prints the password", async () => {
    const res = await runCtl(["state", "show"], { REDIS_URL: url });
    expect(res.code).toBe(0);
    const bad = await runCtl(["state", "show"], {
      REDIS_URL: `redis://:s3cret@127.0.0.1:${await freePort()}/0`,
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).not.toContain("s3cret");
  });
});

describe("kill switch round trip", () => {
  it("refuses kill on without --reason (2) and writes nothing", async () => {
    const res = await ctl(["kill", "on"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("--reason");
    expect(await r.exists(keys.killSwitch)).toBe(0);
  });

  it("on -> status 3 -> off -> status 0, with --json and durability report", async () => {
    const on = await ctl(["kill", "on", "--reason", "exchange incident", "--by", "alice", "--json"]);
    expect(on.code).toBe(0);
    const doc = JSON.parse(on.stdout);
    expect(doc).toMatchObject({ switch: "on", value: "true", reason: "exchange incident", by: "alice" });
    expect(doc.durability.replicas.status).toBe("no_replicas");
    expect(await r.get(keys.killSwitch)).toBe("true");

    const status = await ctl(["kill", "status", "--mode", "paper"]);
    expect(status.code).toBe(3);
    expect(status.stdout).toContain("kill switch ON — trading halted");
    expect(status.stdout).toContain("exchange incident");

    const off = await ctl(["kill", "off"]);
    expect(off.code).toBe(0);
    expect(off.stdout).toContain("kill switch OFF — trading allowed");
    expect(off.stdout).toContain("aof: off");
    const after = await ctl(["kill", "status", "--json"]);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({
      value: "false",
      halted: false,
      reason: null,
      by: expect.any(String),
    });
  });

  it("judges a missing key per mode: --mode, live services, APPLY_MODE, else production", async () => {
    expect((await ctl(["kill", "status", "--mode", "paper"])).code).toBe(0);
    expect((await ctl(["kill", "status", "--mode", "production"])).code).toBe(3);
    expect((await ctl(["kill", "status"])).code).toBe(3);
    expect((await ctl(["kill", "status"], { APPLY_MODE: "testnet" })).code).toBe(0);
    await writeServiceStatus(r, "apply-layer", { mode: "production", venue: "production" });
    const prod = await ctl(["kill", "status", "--json"], { APPLY_MODE: "paper" });
    expect(prod.code).toBe(3);
    expect(JSON.parse(prod.stdout)).toMatchObject({
      mode: "production",
      modeSource: "live service",
      keyPresent: false,
    });
    expect((await ctl(["kill", "status", "--mode", "bogus"])).code).toBe(2);
  });
});

describe("state, mode, permit, ledger, position", () => {
  it("state set/show with exit 3 on HALTED and 2 on a bad value", async () => {
    expect((await ctl(["state", "set", "halted"])).code).toBe(0);
    expect(await r.get(keys.tradingState)).toBe("HALTED");
    expect((await ctl(["state", "show"])).code).toBe(3);
    expect((await ctl(["state", "set", "REDUCE_ONLY"])).code).toBe(0);
    const show = await ctl(["state", "show", "--json"]);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({ state: "REDUCE_ONLY", halted: false });
    expect((await ctl(["state", "set", "PAUSED"])).code).toBe(2);
  });

  it("mode lists each service's status", async () => {
    await writeServiceStatus(r, "apply-layer", { mode: "paper", venue: "paper", metricsPort: 8000 });
    const res = await ctl(["mode", "--json"]);
    expect(res.code).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.services.map((s: { service: string; state: string }) => [s.service, s.state])).toEqual([
      ["apply-layer", "running"],
      ["position-state-brain", "not running"],
      ["decision-intelligence", "not running"],
    ]);
    const text = await ctl(["mode"]);
    expect(text.stdout).toMatch(/apply-layer\s+running\s+paper\s+paper\s+4242\s+testhost\s+8000/);
  });

  it("permit grant is refused in production (2) and works in paper (0)", async () => {
    const env = await ctl(["permit", "grant", PLAN, "--symbol", "BTCUSDT"], { APPLY_MODE: "production" });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain("REFUSED");
    expect((await ctl(["permit", "grant", PLAN, "--symbol", "BTCUSDT", "--production"])).code).toBe(2);
    await writeServiceStatus(r, "apply-layer", { mode: "production", venue: "production" });
    const status = await ctl(["permit", "grant", PLAN, "--symbol", "BTCUSDT", "--json"]);
    expect(status.code).toBe(2);
    expect(JSON.parse(status.stdout)).toMatchObject({ error: { code: "refused_in_production" } });
    expect(await r.exists(keys.governorPermit(PLAN))).toBe(0);

    await writeServiceStatus(r, "apply-layer", { mode: "paper", venue: "paper" });
    const ok = await ctl(["permit", "grant", PLAN, "--symbol", "BTCUSDT", "--qty", "0.01"]);
    expect(ok.code).toBe(0);
    expect(await r.ttl(keys.governorPermit(PLAN))).toBeGreaterThan(55);
    const show = await ctl(["permit", "show", PLAN, "--json"]);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout).governorPermit.decoded).toMatchObject({
      granted: true,
      computedQty: "0.01",
    });
    expect((await ctl(["permit", "show", "nothex"])).code).toBe(2);
  });

  it("ledger set/show and position, negative amounts included", async () => {
    const set = await ctl(["ledger", "set", "BTCUSDT", "-0.5"]);
    expect(set.code).toBe(0);
    expect(await r.hget(keys.positionLedger("BTCUSDT"), "last_known_amt")).toBe("-0.5");
    expect(await r.hget(keys.positionLedger("BTCUSDT"), "source")).toBe("operator");
    expect((await ctl(["ledger", "set", "BTCUSDT", "1e-3"])).code).toBe(2);
    const show = await ctl(["ledger", "show", "BTCUSDT", "--json"]);
    expect(JSON.parse(show.stdout).ledger.decoded).toMatchObject({
      lastKnownAmt: "-0.5",
      source: "operator",
    });
    const pos = await ctl(["position", "BTCUSDT", "--json"]);
    expect(pos.code).toBe(0);
    expect(JSON.parse(pos.stdout)).toMatchObject({
      symbol: "BTCUSDT",
      snapshot: { present: false },
      drift: null,
    });
  });
});

describe("dashboard through the CLI", () => {
  it("b reads the per-symbol window (text and --json, --window, symbols arg)", async () => {
    await r.hset(keys.p35SymbolDecisionCounts("15m"), {
      "BTCUSDT:BLOCKED": "6",
      "BTCUSDT:EXECUTE": "2",
      "ETHUSDT:SKIP": "1",
    });
    await r.hset(keys.p35SymbolReasonCounts("15m"), {
      "BTCUSDT:no_position": "6",
      "BTCUSDT:none": "2",
      "ETHUSDT:action_hold": "1",
    });
    await r.hset(keys.p35SymbolReasonCounts("1h"), { "BTCUSDT:no_position": "99" });
    const json = await ctl(["dashboard", "b", "BTCUSDT", "--json"]);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.window).toBe("15m");
    expect(doc.symbols).toEqual([
      {
        symbol: "BTCUSDT",
        total: 8,
        success: 2,
        decisions: [
          { decision: "EXECUTE", count: 2, pct: 25 },
          { decision: "BLOCKED", count: 6, pct: 75 },
        ],
        gates: [{ reason: "no_position", score: 6, pct: 75 }],
        otherGates: 0,
      },
    ]);
    const text = await ctl(["dashboard", "b"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/BTCUSDT: 8 results/);
    expect(text.stdout).toMatch(/no_position\s+6\s+75\.0%/);
    expect(text.stdout).toMatch(/ETHUSDT: 1 results/);
    const hour = await ctl(["dashboard", "b", "--window", "1h", "--json"]);
    expect(JSON.parse(hour.stdout).symbols[0]).toMatchObject({ symbol: "BTCUSDT", total: 99 });
    expect((await ctl(["dashboard", "b", "--window", "5m"])).code).toBe(2);
  });

  it("d exits 3 naming the gate, 0 when nothing crossed, 2 on a bad threshold", async () => {
    await writeWindow5m(r, { BLOCKED: 110, EXECUTE: 90 }, { none: 90, p33_permit_denied: 110 });
    const crossed = await ctl(["dashboard", "d"]);
    expect(crossed.code).toBe(3);
    expect(crossed.stdout).toMatch(/p33_permit_denied\s+55\.0%\s+\(110 of 200\)/);
    expect(crossed.stdout).not.toMatch(/OK:/);
    const high = await ctl(["dashboard", "d", "60", "--json"]);
    expect(high.code).toBe(0);
    expect(JSON.parse(high.stdout)).toMatchObject({ thresholdPct: 60, crossed: [], total: 200 });
    expect((await ctl(["dashboard", "d", "abc"])).code).toBe(2);
    await writeWindow5m(r, { EXECUTE: 190, SKIP: 10 }, { none: 190, action_hold: 10 });
    const healthy = await ctl(["dashboard", "d"]);
    expect(healthy.code).toBe(0);
    expect(healthy.stdout).toContain("OK: no gate above 40%");
  });

  it("a and c show none as success and percentages of all results", async () => {
    await writeWindow5m(r, { EXECUTE: 50, SKIP: 50 }, { none: 50, action_hold: 45, governor_denied: 5 });
    const a = await ctl(["dashboard", "a"]);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/none \(success\)\s+50\s+50\.0%/);
    const c = await ctl(["dashboard", "c", "--json"]);
    expect(c.code).toBe(0);
    const doc = JSON.parse(c.stdout);
    expect(doc.success).toEqual({ score: 50, pct: 50 });
    expect(doc.warnings.map((w: { reason: string }) => w.reason)).toEqual(["action_hold"]);
  });

  it("e and all exit 3 while a service is down, 0 when everything is healthy", async () => {
    const ok = await healthServer(200);
    try {
      await r.hset(keys.p35Status, { last_ts: String(Date.now() / 1000), processed_total: "1" });
      await writeServiceStatus(r, "apply-layer", { mode: "paper", venue: "paper", metricsPort: ok.port });
      await writeServiceStatus(r, "position-state-brain", {
        mode: "paper",
        venue: "paper",
        metricsPort: ok.port,
      });
      await writeServiceStatus(r, "decision-intelligence", {
        mode: "paper",
        venue: "paper",
        metricsPort: await freePort(),
      });
      const down = await ctl(["dashboard", "e", "--timeout", "1"]);
      expect(down.code).toBe(3);
      expect(down.stdout).toMatch(/decision-intelligence\s+down/);
      await writeServiceStatus(r, "decision-intelligence", {
        mode: "paper",
        venue: "paper",
        metricsPort: ok.port,
      });
      expect((await ctl(["dashboard", "e"])).code).toBe(0);
      const all = await ctl(["dashboard", "all", "--json"]);
      expect(all.code).toBe(0);
      expect(Object.keys(JSON.parse(all.stdout))).toEqual(["query", "a", "b", "c", "d", "e"]);
      await writeWindow5m(r, { BLOCKED: 1 }, { governor_denied: 1 });
      expect((await ctl(["dashboard", "all"])).code).toBe(3);
    } finally {
      await ok.close();
    }
  });
});

describe("health and status", () => {
  it("health: 0 all healthy, 3 a service unhealthy, 1 Redis unreachable (services still probed)", async () => {
    const ok = await healthServer(200);
    const bad = await healthServer(503);
    try {
      for (const s of ALL)
        await writeServiceStatus(r, s, { mode: "paper", venue: "paper", metricsPort: ok.port });
      const healthy = await ctl(["health", "--json"]);
      expect(healthy.code).toBe(0);
      expect(JSON.parse(healthy.stdout)).toMatchObject({ healthy: true, redis: { ok: true } });
      await writeServiceStatus(r, "apply-layer", { mode: "paper", venue: "paper", metricsPort: bad.port });
      const unhealthy = await ctl(["health"]);
      expect(unhealthy.code).toBe(3);
      expect(unhealthy.stdout).toMatch(/apply-layer\s+HTTP 503/);
      const only = await ctl(["health", "--services", "position-state-brain"]);
      expect(only.code).toBe(0);
      const dead = await runCtl([
        "health",
        "--json",
        "--timeout",
        "0.5",
        "--redis-url",
        `redis://127.0.0.1:${await freePort()}/0`,
      ]);
      expect(dead.code).toBe(1);
      const doc = JSON.parse(dead.stdout);
      expect(doc.redis.ok).toBe(false);
      expect(doc.services).toHaveLength(3);
    } finally {
      await ok.close();
      await bad.close();
    }
  });

  it("status prints one summary; --watch redraws until SIGINT and exits 0", async () => {
    await r.set(keys.killSwitch, "true");
    const once = await ctl(["status", "--mode", "paper"]);
    expect(once.code).toBe(0);
    expect(once.stdout).toContain("kill switch ON — trading halted");
    expect(once.stdout).not.toContain("\u001b[");

    const child = spawn(
      process.execPath,
      [CLI_MAIN, "status", "--watch", "--interval", "0.2", "--json", "--redis-url", url],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: { PATH: process.env.PATH ?? "" },
      },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
    const frames = () =>
      out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as { killSwitch: { halted: boolean } });
    await eventually(() => frames().length >= 2, { timeoutMs: 10_000 });
    await r.set(keys.killSwitch, "false");
    await eventually(() => frames().at(-1)?.killSwitch.halted === false, { timeoutMs: 10_000 });
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(frames()[0]?.killSwitch.halted).toBe(true);
    expect(
      out
        .trim()
        .split("\n")
        .every((l) => l.startsWith("{")),
    ).toBe(true);
  });
});
