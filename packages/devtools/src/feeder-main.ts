import { errorText } from "@quantum/contracts";
import {
  ConfigError,
  closeRedis,
  createLogger,
  createRedis,
  loadConfig,
  onShutdown,
  redisReady,
} from "@quantum/runtime";
import type { z } from "zod";
import { feederEnvSchema } from "./env.js";
import { DEFAULT_FEEDER_SYMBOLS, type FeederSymbol, mulberry32, startFeeder } from "./feeder.js";

const SERVICE = "demo-feeder";

async function main(): Promise<number> {
  let cfg: z.output<typeof feederEnvSchema>;
  try {
    cfg = loadConfig(feederEnvSchema);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${SERVICE}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const symbols: FeederSymbol[] = [];
  const unknown: string[] = [];
  for (const s of cfg.FEEDER_SYMBOLS) {
    const known = DEFAULT_FEEDER_SYMBOLS[s];
    if (known === undefined) unknown.push(s);
    else symbols.push(known);
  }
  if (unknown.length > 0) {
    const allowed = Object.keys(DEFAULT_FEEDER_SYMBOLS).join(",");
    process.stderr.write(
      `${SERVICE}: FEEDER_SYMBOLS: no paper defaults for ${unknown.join(",")} (known: ${allowed})\n`,
    );
    return 2;
  }
  const log = createLogger({ service: SERVICE, level: cfg.LOG_LEVEL });
  const seed = cfg.FEEDER_SEED ?? Date.now() % 4_294_967_296;
  log.warn(
    { seed, symbols: cfg.FEEDER_SYMBOLS },
    "DEMO FEEDER - writes fake proposals and paper positions (NO PRODUCTION USAGE)",
  );
  const redis = createRedis(cfg, { name: SERVICE, logger: log });
  if (!(await redisReady(redis))) log.warn({}, "redis not reachable yet; the feeder retries every interval");
  const feeder = startFeeder({
    redis,
    symbols,
    rng: mulberry32(seed),
    intervalMs: Math.round(cfg.FEEDER_INTERVAL_SEC * 1000),
    stream: cfg.FEEDER_STREAM,
    logger: log,
  });
  const ctl = onShutdown(log, [() => feeder.stop(), () => closeRedis(redis)]);
  return ctl.done;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${SERVICE}: fatal: ${errorText(err)}\n`);
    process.exit(1);
  },
);
