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
import pkg from "../package.json" with { type: "json" };
import { configAliases, configSchema, SERVICE_NAME } from "./config.js";
import { rollupDayOnce } from "./rollup-once.js";
import { startDecisionIntelligence } from "./service.js";

/** `--rollup-day YYYYMMDD`: roll up that past day from its buckets and exit, instead of running the service. */
function rollupDayArg(argv: readonly string[]): string | null {
  const i = argv.indexOf("--rollup-day");
  if (i >= 0) return argv[i + 1] ?? "";
  const eq = argv.find((a) => a.startsWith("--rollup-day="));
  return eq === undefined ? null : eq.slice("--rollup-day=".length);
}

/**
 * Entry of quantum-p35-decision-intelligence: config from the environment (and --env-file), then run the
 * service, or with `--rollup-day YYYYMMDD` write that day's rollup once and exit (0 written or already there,
 * 3 no bucket of that day exists any more, 2 bad day).
 */
async function main(): Promise<number> {
  const checkOnly = wantsConfigCheck();
  let config: ReturnType<typeof loadConfig<typeof configSchema>>;
  try {
    config = loadConfig(configSchema, { env: process.env, aliases: configAliases });
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
  const day = rollupDayArg(process.argv.slice(2));
  if (day !== null) {
    const out = await rollupDayOnce(config, day, log);
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return out.exitCode;
  }
  const service = await startDecisionIntelligence({ config, logger: log, version: pkg.version });
  const ctl = runService(service, log);
  process.on("unhandledRejection", (reason) => {
    log.fatal({ err: reason instanceof Error ? reason : { message: String(reason) } }, "unhandled rejection");
    void ctl.trigger("unhandled_rejection");
  });
  return ctl.done;
}

runMain(SERVICE_NAME, main);
