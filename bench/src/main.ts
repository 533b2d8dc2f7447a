import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startBenchRedis } from "./harness.js";
import { runApplyPhase } from "./phase-apply.js";
import { runP33Phase } from "./phase-p33.js";
import { runP35Phase } from "./phase-p35.js";
import { runStackPhase } from "./phase-stack.js";
import { figures, table } from "./report.js";

/** `pnpm bench`: SPEC §6 figures against a bench-owned redis-server and the real service processes. */
async function main(): Promise<number> {
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
  try {
    log("[1/4] full stack (as scripts/stack.sh): idle RSS, end-to-end latency, kill switch under load");
    const stack = await runStackPhase(root, redis, log);
    log("[2/4] P3.3 permit latency at 1,000 plans/s");
    const p33 = await runP33Phase(root, redis, log);
    log("[3/4] Apply Layer wait overhead");
    const apply = await runApplyPhase(root, redis, log);
    log("[4/4] P3.5 drain of 100,000 results");
    const p35 = await runP35Phase(root, redis, log);
    const figs = figures({ stack, p33, apply, p35 });
    log("");
    log(table(figs));
    const misses = figs.filter((f) => f.pass === false);
    const elapsedSec = Math.round((Date.now() - started) / 100) / 10;
    log("");
    log(`${figs.filter((f) => f.pass === true).length} PASS, ${misses.length} MISS; ran ${elapsedSec} s`);
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
      details: { stack, p33, apply, p35 },
    };
    const dir = join(root, "bench", "results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "latest.json"), `${JSON.stringify(doc, null, 2)}\n`);
    log(`written: ${join(dir, "latest.json")}`);
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
