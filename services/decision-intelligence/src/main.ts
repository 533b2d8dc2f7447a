import {
  ConfigError,
  createLogger,
  EXIT_CONFIG_INVALID,
  loadConfig,
  onShutdown,
  reportConfigCheck,
  wantsConfigCheck,
} from "@quantum/runtime";
import pkg from "../package.json" with { type: "json" };
import { configSchema, SERVICE_NAME } from "./config.js";
import { startDecisionIntelligence } from "./service.js";

/** Entry of quantum-p35-decision-intelligence: config from the environment (and --env-file), then run. */
async function main(): Promise<number> {
  const checkOnly = wantsConfigCheck();
  let config: ReturnType<typeof loadConfig<typeof configSchema>>;
  try {
    config = loadConfig(configSchema);
  } catch (err) {
    if (err instanceof ConfigError) {
      if (checkOnly) return reportConfigCheck(SERVICE_NAME, err.issues);
      process.stderr.write(
        `${SERVICE_NAME}: invalid configuration:\n${err.issues.map((i) => `  - ${i}`).join("\n")}\n`,
      );
      return EXIT_CONFIG_INVALID;
    }
    throw err;
  }
  if (checkOnly) return reportConfigCheck(SERVICE_NAME, []);
  const log = createLogger({
    service: SERVICE_NAME,
    level: config.LOG_LEVEL,
    secrets: [config.REDIS_PASSWORD, config.REDIS_SENTINEL_PASSWORD, config.REDIS_URL],
    base: { version: pkg.version },
  });
  const service = await startDecisionIntelligence(config, { logger: log, version: pkg.version });
  const ctl = onShutdown(log, [() => service.stop()]);
  process.on("unhandledRejection", (reason) => {
    log.fatal({ err: reason instanceof Error ? reason : { message: String(reason) } }, "unhandled rejection");
    void ctl.trigger("unhandled_rejection");
  });
  return ctl.done;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `${SERVICE_NAME}: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
