import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { keys } from "@quantum/contracts";
import { seedPaperPosition } from "@quantum/exchange";
import { type Stack, startStack } from "@quantum/stack";
import { eventually, metricValue, scrapeMetrics, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proposal, quantumctl, ROOT, waitResult, writeProposal } from "./support.js";

// The "why are we not trading?" page of P3.5 on the local stack (real processes), driven into known states:
// BTCUSDT ends on the kill switch, SOLUSDT under a reconcile hold, ETHUSDT with a ledger drift, and DOGEUSDT
// behind a silent Governor (its plan times out on the missing Governor permit). Checked in headless Chromium.
const SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "DOGEUSDT"];
const KILL_REASON = "page test: venue incident";
const RESULTS_DIR = process.env.QUANTUM_TEST_RESULTS ?? join(ROOT, ".test-results");

let redis: TestRedis;
let r: Redis;
let stack: Stack;
let browser: Browser;
let page: Page;
let pageUrl = "";
const supervisorLines: string[] = [];

interface Advice {
  reason: string;
  action: string;
}
interface Row {
  symbol: string;
  blocker: { reason: string; source: string } | null;
  advice: Advice | null;
  hold: string | null;
  exchangeAmt: string | null;
  ledgerAmt: string | null;
  drift: string | null;
  mismatchSince: number | null;
  lastResult: { decision: string; reason: string } | null;
}
interface StatusDoc {
  headline: { trading: boolean; text: string };
  killSwitch: { halted: boolean; reason: string | null; by: string | null; atIso: string | null };
  tradingState: { state: string };
  services: Array<{ service: string; state: string; mode: string | null; venue: string | null }>;
  windows: Array<{ window: string; total: number }>;
  topReasons: Array<{ reason: string; advice: Advice }>;
  symbols: Row[];
  recentResults: Array<{ symbol: string; reason: string }>;
}

/** What the page must say per symbol: the blocking reason, where it comes from and a piece of its fix. */
const EXPECTED: Record<string, { reason: string; source: string; fix: string }> = {
  BTCUSDT: { reason: "kill_switch_active", source: "last_result", fix: "quantumctl kill off" },
  SOLUSDT: {
    reason: "reconcile_hold_active",
    source: "hold",
    fix: "redis-cli DEL quantum:reconcile:hold:SOLUSDT",
  },
  ETHUSDT: {
    reason: "reconcile_required_qty_mismatch",
    source: "drift",
    fix: "quantumctl ledger set ETHUSDT",
  },
  DOGEUSDT: {
    reason: "permit_timeout_or_missing:missing_governor",
    source: "last_result",
    fix: "Restore the Governor",
  },
};

const statusJson = async (): Promise<StatusDoc> => {
  const res = await fetch(`${pageUrl}status.json`);
  expect(res.status).toBe(200);
  return (await res.json()) as StatusDoc;
};

beforeAll(async () => {
  redis = await startTestRedis();
  r = redis.client();
  await seedPaperPosition(r, "BTCUSDT", "0.400", "60000.0");
  await seedPaperPosition(r, "ETHUSDT", "-0.800", "3000.00");
  await seedPaperPosition(r, "SOLUSDT", "-20", "150.00");
  await seedPaperPosition(r, "DOGEUSDT", "20000", "0.15000");
  stack = await startStack({
    root: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      REDIS_URL: redis.url(0),
      P33_COOLDOWN_SEC: "0",
      APPLY_PERMIT_WAIT_MS: "1500",
      P35_SNAPSHOT_INTERVAL_SEC: "0.5",
    },
    out: (line) => {
      if (line.startsWith("[stack]")) supervisorLines.push(line);
    },
    logDir: null,
    symbols: SYMBOLS,
    feeder: false,
    preferDefaultPorts: false,
  });
  pageUrl = `http://127.0.0.1:${stack.services["decision-intelligence"].port}/`;
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
  page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  const result = await stack?.stop("page test done");
  await redis?.stop();
  expect(result?.exitCode, supervisorLines.join("\n")).toBe(0);
}, 60_000);

describe("the P3.5 status page on the local stack", () => {
  it("drives the stack into the four states", async () => {
    // SOLUSDT: an operator hold; P3.3 denies reconcile_hold_active.
    await r.set(keys.reconcileHold("SOLUSDT"), "checking fills");
    const sol = await waitResult(r, await writeProposal(r, proposal("SOLUSDT")));
    expect(sol).toMatchObject({ decision: "BLOCKED", reason: "p33_permit_denied" });
    expect(sol.detail).toContain("reconcile_hold_active");

    // ETHUSDT: the ledger believes -0.5 while the exchange holds -0.8.
    expect((await quantumctl(redis.url(0), ["ledger", "set", "ETHUSDT", "-0.5"])).code).toBe(0);
    await eventually(async () => (await r.hget(keys.positionView("ETHUSDT"), "mismatch_since")) !== "", {
      timeoutMs: 10_000,
    });
    const eth = await waitResult(r, await writeProposal(r, proposal("ETHUSDT")));
    expect(eth).toMatchObject({ decision: "BLOCKED", reason: "p33_permit_denied" });
    expect(eth.detail).toContain("reconcile_required_qty_mismatch");

    // DOGEUSDT: the Governor goes silent; the plan times out on its missing permit.
    expect((await stack.stopChild("dev-governor")).code).toBe(0);
    const doge = await waitResult(r, await writeProposal(r, proposal("DOGEUSDT")));
    expect(doge).toMatchObject({ decision: "BLOCKED", reason: "permit_timeout_or_missing:missing_governor" });

    // Kill switch on; BTCUSDT's next plan is stopped by it.
    const kill = await quantumctl(redis.url(0), ["kill", "on", "--reason", KILL_REASON]);
    expect(kill.code, kill.stderr).toBe(0);
    const btc = await waitResult(r, await writeProposal(r, proposal("BTCUSDT")));
    expect(btc).toMatchObject({ decision: "BLOCKED", reason: "kill_switch_active" });

    // Nothing was sent, and the Apply Layer counts each result by decision and reason.
    for (const [s, amt] of [
      ["BTCUSDT", "0.4"],
      ["SOLUSDT", "-20"],
      ["ETHUSDT", "-0.8"],
      ["DOGEUSDT", "20000"],
    ]) {
      expect(Number(await r.hget(keys.paperPosition(s as string), "position_amt")), s).toBe(Number(amt));
    }
    const m = await scrapeMetrics(stack.services["apply-layer"].port);
    expect(metricValue(m, "apply_result_total", { decision: "BLOCKED", reason: "p33_permit_denied" })).toBe(
      2,
    );
    expect(
      metricValue(m, "apply_result_total", {
        decision: "BLOCKED",
        reason: "permit_timeout_or_missing:missing_governor",
      }),
    ).toBe(1);
    expect(metricValue(m, "apply_result_total", { decision: "BLOCKED", reason: "kill_switch_active" })).toBe(
      1,
    );
  });

  it("/status.json carries each state on the right row with the right reason and fix", async () => {
    const doc = await eventually(
      async () => {
        const d = await statusJson();
        // P3.5 has counted all four results into its windows.
        expect(d.windows.find((w) => w.window === "5m")?.total).toBe(4);
        return d;
      },
      { timeoutMs: 15_000 },
    );
    expect(doc.headline).toEqual({ trading: false, text: "Kill switch ON — trading halted" });
    expect(doc.killSwitch).toMatchObject({ halted: true, reason: KILL_REASON });
    expect(doc.killSwitch.by).toMatch(/@/);
    expect(doc.killSwitch.atIso).not.toBeNull();
    for (const [symbol, want] of Object.entries(EXPECTED)) {
      const row = doc.symbols.find((s) => s.symbol === symbol);
      expect(row?.blocker, symbol).toEqual({ reason: want.reason, source: want.source });
      expect(row?.advice?.action, symbol).toContain(want.fix);
    }
    const eth = doc.symbols.find((s) => s.symbol === "ETHUSDT");
    expect(eth).toMatchObject({ exchangeAmt: "-0.8", ledgerAmt: "-0.5", drift: "-0.3" });
    expect(eth?.mismatchSince).not.toBeNull();
    expect(doc.symbols.find((s) => s.symbol === "SOLUSDT")?.hold).toBe("checking fills");
    expect(doc.topReasons.map((t) => t.reason).sort()).toEqual(
      ["kill_switch_active", "p33_permit_denied", "permit_timeout_or_missing:missing_governor"].sort(),
    );
    const services = Object.fromEntries(doc.services.map((s) => [s.service, s]));
    expect(services["apply-layer"]).toMatchObject({ state: "running", mode: "paper", venue: "paper" });
    expect(services["position-state-brain"]?.state).toBe("running");
    expect(services["decision-intelligence"]?.state).toBe("running");
  });

  it("shows the same in headless Chromium at 390 px, readable without sideways scrolling", async () => {
    const res = await page.goto(pageUrl);
    expect(res?.status()).toBe(200);
    expect(await page.title()).toBe("Why are we not trading?");
    expect(await page.locator("#headline").textContent()).toBe("Kill switch ON — trading halted");
    const kill = await page.locator("#kill-switch").textContent();
    expect(kill).toContain("Kill switch ON");
    expect(kill).toContain(KILL_REASON);
    expect(await page.locator("#kill-switch .action").textContent()).toContain("quantumctl kill off");
    for (const [symbol, want] of Object.entries(EXPECTED)) {
      const card = page.locator(`article[data-symbol="${symbol}"]`);
      expect(await card.count(), symbol).toBe(1);
      expect(await card.locator(".blocker-reason").textContent(), symbol).toBe(want.reason);
      expect(await card.locator(".action").textContent(), symbol).toContain(want.fix);
    }
    const eth = await page.locator('article[data-symbol="ETHUSDT"]').textContent();
    expect(eth).toContain("-0.8");
    expect(eth).toContain("-0.5");
    expect(eth).toContain("-0.3");
    expect(await page.locator('article[data-symbol="SOLUSDT"]').textContent()).toContain("checking fills");
    expect(
      await page.locator('#reasons li[data-reason="kill_switch_active"] .action').textContent(),
    ).toContain("quantumctl kill off");
    // No script, no external request, and nothing wider than the phone.
    expect(await page.locator("script").count()).toBe(0);
    const widths = (await page.evaluate(
      "({ doc: document.documentElement.scrollWidth, view: window.innerWidth })",
    )) as { doc: number; view: number };
    expect(widths.doc).toBeLessThanOrEqual(widths.view);
    mkdirSync(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: join(RESULTS_DIR, "why-not-trading-390.png"), fullPage: true });
  });
});
