import { keys, streams } from "@quantum/contracts";
import { eventually, httpGet, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, feed, type RunningService, startService, status } from "./support.js";

const EVIL = `<script>alert("x")</script>`;
let redis: TestRedis;
let r: Redis;
let svc: RunningService;
const url = (path: string) => `http://127.0.0.1:${svc.port}${path}`;

beforeAll(async () => {
  assertBuilt();
  redis = await startTestRedis();
  r = redis.client(0);
  svc = await startService(redis, 0, { P33_COOLDOWN_SEC: "600" });
});
afterAll(async () => {
  await svc?.proc.stop();
  await redis?.stop();
});

describe("the status page of the real process (GET / and /status.json)", () => {
  it("shows kill switch, symbol rows with their blocker and fix, and the same facts as JSON", async () => {
    const nowSec = Date.now() / 1000;
    await r.set(keys.killSwitch, "true");
    await r.set(keys.killSwitchReason, "exchange incident");
    await r.set(keys.killSwitchBy, "alice@ops");
    await r.set(keys.killSwitchAt, nowSec.toFixed(3));
    await r.hset(keys.positionSnapshot("SOLUSDT"), { position_amt: "-20", ts_epoch: nowSec.toFixed(3) });
    await r.hset(keys.positionLedger("SOLUSDT"), { last_known_amt: "-20" });
    await r.set(keys.reconcileHold("SOLUSDT"), "checking fills");
    await r.hset(keys.positionSnapshot("ETHUSDT"), { position_amt: "-0.8", ts_epoch: nowSec.toFixed(3) });
    await r.hset(keys.positionLedger("ETHUSDT"), { last_known_amt: "-0.5" });
    await r.hset(keys.positionView("ETHUSDT"), { mismatch_since: (nowSec - 30).toFixed(3) });
    await r.set(keys.cooldownLastExecTs("BTCUSDT"), String(Date.now() - 5000));
    await feed(r, [
      { symbol: "DOGEUSDT", decision: "BLOCKED", reason: "permit_timeout_or_missing:missing_governor" },
      { symbol: "BTCUSDT", decision: "EXECUTE", reason: "none", executed: "True" },
    ]);
    await eventually(async () => (await status(r)).processed_total === "2");

    const res = await fetch(url("/"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain("Kill switch ON");
    expect(html).toContain("exchange incident");
    expect(html).toContain('<meta http-equiv="refresh"');
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!127\.0\.0\.1)/i);

    const doc = JSON.parse(await (await fetch(url("/status.json"))).text());
    expect(doc.killSwitch).toMatchObject({ halted: true, reason: "exchange incident", by: "alice@ops" });
    const row = (s: string) => doc.symbols.find((x: { symbol: string }) => x.symbol === s);
    expect(row("SOLUSDT")).toMatchObject({
      hold: "checking fills",
      blocker: { reason: "reconcile_hold_active", source: "hold" },
    });
    expect(row("SOLUSDT").advice.action).toContain("quantum:reconcile:hold:SOLUSDT");
    expect(row("ETHUSDT")).toMatchObject({
      drift: "-0.3",
      blocker: { reason: "reconcile_required_qty_mismatch", source: "drift" },
    });
    expect(row("ETHUSDT").advice.action).toContain("quantumctl ledger set ETHUSDT");
    expect(row("DOGEUSDT").blocker).toEqual({
      reason: "permit_timeout_or_missing:missing_governor",
      source: "last_result",
    });
    expect(row("BTCUSDT")).toMatchObject({ blocker: { reason: "cooldown_in_flight", source: "cooldown" } });
    expect(row("BTCUSDT").cooldownRemainingSec).toBeGreaterThan(500);
  });

  it("escapes every value from Redis: a symbol, reason, kill reason and dead letter with <script>", async () => {
    await r.set(keys.killSwitchReason, EVIL);
    await r.set(keys.killSwitchBy, `"><img src=x onerror=alert(1)>`);
    await r.hset(keys.positionSnapshot(EVIL), { position_amt: EVIL, ts_epoch: "x" });
    await r.set(keys.reconcileHold(EVIL), EVIL);
    await r.xadd(streams.applyResult, "*", "symbol", EVIL, "decision", EVIL, "reason", EVIL, "detail", EVIL);
    await r.xadd(streams.deadLetter, "*", "stream", EVIL, "service", EVIL, "error", EVIL, "ts", "1");
    await r.xadd(
      streams.p35Alerts,
      "*",
      "severity",
      EVIL,
      "reason",
      EVIL,
      "timestamp",
      String(Date.now() / 1000),
    );
    // A read serves requests for a second: wait for one made after the writes above.
    const html = await eventually(async () => {
      const text = await (await fetch(url("/"))).text();
      expect(text).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
      return text;
    });
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<img");
    const json = await (await fetch(url("/status.json"))).text();
    expect(json).not.toMatch(/[<>]/);
    expect(JSON.parse(json).killSwitch.reason).toBe(EVIL);
  });

  it("shares one read of Redis between requests: ten at once and more within a second cost one read", async () => {
    // The page's read is the only XREVRANGE caller in P3.5 (recent results, alerts, dead letters: 3 a read).
    const xrevrangeCalls = async () => {
      const line = (await r.info("commandstats")).split("\n").find((l) => l.startsWith("cmdstat_xrevrange:"));
      return Number(/calls=(\d+)/.exec(line ?? "")?.[1] ?? 0);
    };
    // Let any cached read from the tests above age out, so the burst below starts a fresh one.
    await eventually(async () => {
      const before = await xrevrangeCalls();
      await fetch(url("/status.json"));
      expect(await xrevrangeCalls()).toBeGreaterThan(before);
    });
    await eventually(async () => {
      const before = await xrevrangeCalls();
      const started = Date.now();
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => fetch(url(i % 2 === 0 ? "/" : "/status.json"))),
      );
      for (const a of answers) expect(a.status).toBe(200);
      for (let i = 0; i < 5; i++) expect((await fetch(url("/"))).status).toBe(200);
      // Only judged when all fifteen came within the second a read is shared (a slow machine retries).
      if (Date.now() - started < 900) expect(await xrevrangeCalls()).toBe(before + 3);
      else throw new Error("requests took longer than a shared read lives; trying again");
    });
  });

  it("answers 404 for other paths and 405 for methods other than GET and HEAD, reflecting nothing", async () => {
    for (const path of ["/index.html", "/status", "/%3Cscript%3E", "/status.json/x"]) {
      const res = await httpGet(svc.port, path);
      expect(res.status, path).toBe(404);
      expect(res.body).not.toContain("script");
    }
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const res = await fetch(url("/"), { method });
      expect(res.status, method).toBe(405);
    }
    const head = await fetch(url("/status.json"), { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });
});
