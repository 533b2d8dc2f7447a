import { readFileSync } from "node:fs";
import {
  ConfigError,
  createLogger,
  EXIT_CONFIG_INVALID,
  loadConfig,
  reportConfigCheck,
  runMain,
  runService,
  wantsConfigCheck,
} from "@quantum/runtime";
import { P33_ENV_ALIASES, p33ConfigSchema, SERVICE_NAME, venueProblem } from "./config.js";
import { startPositionStateBrain } from "./service.js";

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
  const checkOnly = wantsConfigCheck();
  let cfg: ReturnType<typeof loadConfig<typeof p33ConfigSchema>>;
  try {
    cfg = loadConfig(p33ConfigSchema, { env: process.env, aliases: P33_ENV_ALIASES });
  } catch (err) {
    if (err instanceof ConfigError) {
      if (checkOnly) return reportConfigCheck(SERVICE_NAME, err.issues);
      process.stderr.write(`${SERVICE_NAME}: ${err.message}\n`);
      return EXIT_CONFIG_INVALID;
    }
    throw err;
  }
  const problem = venueProblem(cfg);
  if (checkOnly) return reportConfigCheck(SERVICE_NAME, problem === null ? [] : [problem]);
  if (problem !== null) {
    process.stderr.write(`${SERVICE_NAME}: ${problem}\n`);
    return EXIT_CONFIG_INVALID;
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
    brain = await startPositionStateBrain({ config: cfg, logger, version: version() });
  } catch (err) {
    logger.fatal({ err }, "startup failed");
    return 1;
  }
  return runService(brain, logger).done;
}

runMain(SERVICE_NAME, main);
