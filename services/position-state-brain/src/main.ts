import { readFileSync } from "node:fs";
import { ConfigError, createLogger, loadConfig, onShutdown } from "@quantum/runtime";
import { P33_ENV_ALIASES, p33ConfigSchema, SERVICE_NAME, venueProblem } from "./config.js";
import { startPositionStateBrain } from "./service.js";

/** Exit code for configuration problems (nothing was connected). */
const EXIT_CONFIG = 2;

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version?: unknown;
    };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}

async function main(): Promise<number> {
  let cfg: ReturnType<typeof loadConfig<typeof p33ConfigSchema>>;
  try {
    cfg = loadConfig(p33ConfigSchema, { env: process.env, aliases: P33_ENV_ALIASES });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${SERVICE_NAME}: ${err.message}\n`);
      return EXIT_CONFIG;
    }
    throw err;
  }
  const problem = venueProblem(cfg);
  if (problem !== null) {
    process.stderr.write(`${SERVICE_NAME}: ${problem}\n`);
    return EXIT_CONFIG;
  }
  const logger = createLogger({
    service: SERVICE_NAME,
    level: cfg.P33_LOG_LEVEL,
    secrets: [
      cfg.BINANCE_API_KEY,
      cfg.BINANCE_API_SECRET,
      cfg.BINANCE_TESTNET_API_KEY,
      cfg.BINANCE_TESTNET_API_SECRET,
      cfg.REDIS_PASSWORD,
      cfg.REDIS_SENTINEL_PASSWORD,
    ],
  });
  let brain: Awaited<ReturnType<typeof startPositionStateBrain>>;
  try {
    brain = await startPositionStateBrain(cfg, { logger, version: version() });
  } catch (err) {
    logger.fatal({ err }, "startup failed");
    return 1;
  }
  const ctl = onShutdown(logger, [() => brain.stop()]);
  return ctl.done;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${SERVICE_NAME}: fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
