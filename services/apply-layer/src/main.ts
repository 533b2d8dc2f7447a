import { ExchangeConfigError, resolveBaseUrl } from "@quantum/exchange";
import {
  ConfigError,
  createLogger,
  EXIT_CONFIG_INVALID,
  reportConfigCheck,
  runMain,
  runService,
  wantsConfigCheck,
} from "@quantum/runtime";
import pkg from "../package.json" with { type: "json" };
import {
  type ApplyConfig,
  type CrashPoint,
  configSecrets,
  loadApplyConfig,
  SERVICE_NAME as SERVICE,
} from "./config.js";
import { startApplyService } from "./service.js";

const VENUE_LINES: Readonly<Record<ApplyConfig["mode"], string>> = {
  dry_run: "DRY RUN MODE - no venue, nothing is sent",
  paper: "PAPER MODE - venue paper, no real orders",
  testnet: "TESTNET VENUE - venue testnet, exchange test network, no real money",
  production: "LIVE VENUE - venue production, REAL ORDERS",
};

/**
 * The startup line operators grep for (`grep -E 'TESTNET|PRODUCTION'`): the venue first, loudly, then the
 * permit mode. `PRODUCTION MODE - Both permits required (Governor + P3.3)` means the permit bypass is off.
 */
export function permitModeLine(cfg: ApplyConfig): string {
  const permits = cfg.testnetBypass
    ? "TESTNET MODE ENABLED - permit bypass active (NO PRODUCTION USAGE)"
    : "PRODUCTION MODE - Both permits required (Governor + P3.3)";
  return `${VENUE_LINES[cfg.mode]}; permits: ${permits}`;
}

/** Problems of the live exchange settings that only surface when the exchange is created (no connection). */
function exchangeProblems(cfg: ApplyConfig): string[] {
  if (cfg.venue !== "testnet" && cfg.venue !== "production") return [];
  try {
    resolveBaseUrl(cfg.venue, cfg.baseUrl, cfg.allowLoopbackExchange);
    return [];
  } catch (err) {
    if (err instanceof ExchangeConfigError) return [`BINANCE_BASE_URL: ${err.message}`];
    throw err;
  }
}

async function main(): Promise<number> {
  const checkOnly = wantsConfigCheck();
  let cfg: ApplyConfig;
  try {
    cfg = loadApplyConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      if (checkOnly) return reportConfigCheck(SERVICE, err.issues);
      process.stderr.write(`${SERVICE}: refusing to start: ${err.message}\n`);
      return EXIT_CONFIG_INVALID;
    }
    throw err;
  }
  if (checkOnly) return reportConfigCheck(SERVICE, exchangeProblems(cfg));
  const venue = cfg.venue ?? "none";
  const log = createLogger({
    service: SERVICE,
    level: cfg.logLevel,
    secrets: configSecrets(cfg),
    base: { mode: cfg.mode, venue },
  });
  const modeFields = { permitBypass: cfg.testnetBypass, version: pkg.version };
  if (cfg.testnetBypass) log.warn(modeFields, permitModeLine(cfg));
  else log.info(modeFields, permitModeLine(cfg));

  const crashAt = cfg.mode === "production" ? null : cfg.testCrashAt;
  if (crashAt !== null) log.warn({ point: crashAt }, "test crash hook armed (APPLY_TEST_CRASH_AT)");
  const crash = (point: CrashPoint): void => {
    if (crashAt !== point) return;
    log.warn({ point }, "test crash hook: killing the process");
    process.kill(process.pid, "SIGKILL");
  };

  let service: Awaited<ReturnType<typeof startApplyService>>;
  try {
    service = await startApplyService({ config: cfg, logger: log, version: pkg.version, crash });
  } catch (err) {
    if (err instanceof ExchangeConfigError) {
      log.fatal({ code: err.code }, err.message);
      process.stderr.write(`${SERVICE}: refusing to start: ${err.code}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  return runService(service, log, { timeoutMs: 10_000 }).done;
}

runMain(SERVICE, main);
