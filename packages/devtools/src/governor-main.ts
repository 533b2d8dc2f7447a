import { errorText } from "@quantum/contracts";
import { ConfigError, closeRedis, createLogger, createRedis, loadConfig, onShutdown } from "@quantum/runtime";
import type { z } from "zod";
import { governorEnvSchema } from "./env.js";
import { DEV_GOVERNOR_SERVICE, startDevGovernor } from "./governor.js";

async function main(): Promise<number> {
  let cfg: z.output<typeof governorEnvSchema>;
  try {
    cfg = loadConfig(governorEnvSchema);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${DEV_GOVERNOR_SERVICE}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = createLogger({ service: DEV_GOVERNOR_SERVICE, level: cfg.LOG_LEVEL });
  log.warn({}, "DEV GOVERNOR - auto-approves EXECUTE plans (NO PRODUCTION USAGE)");
  const redis = createRedis(cfg, { name: DEV_GOVERNOR_SERVICE, logger: log });
  const blocking = createRedis(cfg, { name: DEV_GOVERNOR_SERVICE, role: "blocking", logger: log });
  const governor = startDevGovernor({
    redis,
    blocking,
    logger: log,
    blockSymbols: cfg.GOVERNOR_BLOCK_SYMBOLS,
    denySymbols: cfg.GOVERNOR_DENY_SYMBOLS,
    delayMs: cfg.GOVERNOR_DELAY_MS,
    permitTtlSec: cfg.GOVERNOR_PERMIT_TTL_SEC,
    ...(cfg.GOVERNOR_CONSUMER_NAME !== undefined ? { consumer: cfg.GOVERNOR_CONSUMER_NAME } : {}),
  });
  const ctl = onShutdown(log, [() => governor.stop(), () => closeRedis(blocking), () => closeRedis(redis)]);
  return ctl.done;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${DEV_GOVERNOR_SERVICE}: fatal: ${errorText(err)}\n`);
    process.exit(1);
  },
);
