import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startBenchRedis } from "./harness.js";
import { runApplyPhase } from "./phase-apply.js";
import { runCrashDayPhase, runP33BurstPhase } from "./phase-crash-day.js";
import { runP33Phase } from "./phase-p33.js";
import { runP35Phase } from "./phase-p35.js";
import { runPagePhase } from "./phase-page.js";
import { runStackPhase } from "./phase-stack.js";
import { crashDayFigures, type Figure, figures, table } from "./report.js";

/**
 * `pnpm bench`: the performance figures against a bench-owned redis-server and the real service processes.
 * `pnpm bench --crash-day`: the crash-day phase alone (FakeBinance with the venue's real limits).
 * `pnpm bench --stack-only` / `--p35-only`: one phase alone, to compare a change before and after.
 * `pnpm bench --p33-only`: P3.3's permit latency and its burst of 500 plans (before/after a P3.3 change).
 */
async function main(): Promise<number> {
  const crashDay = process.argv.includes("--crash-day");
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const started = Date.now();
  const redisVersion = (() => {
    try {
      return execFileSync("redis-server", ["--version"], { encoding: "utf8" }).trim();
    } catch {
      return "unknown";
    }
  })();
  log(
    `quantum bench: ${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}, node ${process.version}`,
  );
  const redis = await startBenchRedis();
  if (process.argv.includes("--p35-only")) {
    // Only the P3.5 drain (comparing a P3.5 change before and after without the other phases).
    try {
      const p35 = await runP35Phase(root, redis, log);
      log(
        `P3.5 drain, 100,000 results: ${p35.perSecFromServiceStart.toLocaleString("en-US")} results/s ` +
          `(${p35.drainMs} ms from service start, ${p35.perSecFromSpawn.toLocaleString("en-US")} results/s from spawn, ` +
          `peak RSS ${p35.peakRssMb.toFixed(1)} MB)`,
      );
      return 0;
    } finally {
      await redis.stop();
    }
  }
  if (process.argv.includes("--stack-only")) {
    // Only the full-stack phase (comparing an Apply Layer change before and after without the other phases).
    try {
      const stack = await runStackPhase(root, redis, log);
      const ms = (d: { p50: number; p99: number }) =>
        `p50 ${d.p50.toFixed(2)} ms, p99 ${d.p99.toFixed(2)} ms`;
      log(
        `first proposal -> result: ${stack.e2eFirstMs.toFixed(2)} ms; stream proposal -> result: ${ms(stack.e2e)}; ` +
          `hash proposal -> result: ${ms(stack.e2eHash)}`,
      );
      log(`orders after the kill-switch SET: ${stack.kill.ordersAfterSet}`);
      log(
        `load ${loadavg()
          .map((l) => l.toFixed(2))
          .join(" ")} at the end`,
      );
      return 0;
    } finally {
      await redis.stop();
    }
  }
  if (process.argv.includes("--p33-only")) {
    try {
      const p33 = await runP33Phase(root, redis, log);
      const burst = await runP33BurstPhase(root, redis, log);
      const ms = (v: number) => v.toFixed(2);
      log(
        `P3.3 permit latency @1,000 plans/s: p50 ${ms(p33.latency.p50)} ms, p99 ${ms(p33.latency.p99)} ms, ` +
          `max ${ms(p33.latency.max)} ms, CPU ${p33.cpuMsPerPlan.toFixed(3)} ms per plan (peak RSS ${p33.peakRssMb.toFixed(1)} MB)`,
      );
      log(
        `P3.3 burst of ${burst.permits} plans -> last permit: ${ms(burst.lastPermitMs)} ms ` +
          `(${burst.allowed} allow, CPU ${ms(burst.cpuMs)} ms, peak RSS ${burst.peakRssMb.toFixed(1)} MB; ` +
          `a do-nothing consumer: ${ms(burst.floorLastPermitMs)} ms); load ${loadavg()
            .map((l) => l.toFixed(2))
            .join(" ")} at the end`,
      );
      return 0;
    } finally {
      await redis.stop();
    }
  }
  try {
    let figs: Figure[];
    let details: Record<string, unknown>;
    if (crashDay) {
      log(
        "[crash day] 500 FULL_CLOSE proposals at once through the Apply Layer, P3.3 and the dev governor (testnet mode against a fake venue enforcing Binance's limits); then P3.3 alone given 500 plans",
      );
      const crash = await runCrashDayPhase(root, redis, log);
      figs = crashDayFigures(crash);
      details = { crashDay: crash };
    } else {
      log("[1/5] full stack (as scripts/stack.sh): idle RSS, end-to-end latency, kill switch under load");
      const stack = await runStackPhase(root, redis, log);
      log("[2/5] P3.3 permit latency at 1,000 plans/s");
      const p33 = await runP33Phase(root, redis, log);
      log("[3/5] Apply Layer wait overhead");
      const apply = await runApplyPhase(root, redis, log);
      log("[4/5] P3.5 drain of 100,000 results");
      const p35 = await runP35Phase(root, redis, log);
      log("[5/5] P3.5 status page: 50 symbols, a day of buckets, served while P3.5 drains");
      const page = await runPagePhase(root, redis, log);
      figs = figures({ stack, p33, apply, p35, page });
      details = { stack, p33, apply, p35, page };
    }
    log("");
    log(table(figs));
    const misses = figs.filter((f) => f.pass === false);
    const elapsedSec = Math.round((Date.now() - started) / 100) / 10;
    log("");
    log(
      `${figs.filter((f) => f.pass === true).length} PASS, ${misses.length} MISS; ran ${elapsedSec} s; load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")} at the end`,
    );
    const doc = {
      generatedAt: new Date().toISOString(),
      elapsedSec,
      machine: {
        cores: cpus().length,
        cpu: cpus()[0]?.model ?? "unknown",
        node: process.version,
        redis: redisVersion,
        loadavgAtStart: loadavg(),
      },
      figures: figs,
      details,
    };
    const dir = join(root, "bench", "results");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, crashDay ? "crash-day.json" : "latest.json");
    writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
    log(`written: ${file}`);
    return 0;
  } finally {
    await redis.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
