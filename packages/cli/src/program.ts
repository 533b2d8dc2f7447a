import { type ApplyMode, P35_SYMBOL_WINDOWS, type P35SymbolWindow } from "@quantum/contracts";
import {
  DASHBOARD_QUERIES,
  type DashboardQuery,
  dashboard,
  dashboardCondition,
  health,
  KNOWN_SERVICES,
  readServiceStatuses,
} from "@quantum/insight";
import { Argument, Command, CommanderError, Option } from "commander";
import { parseSymbolList, parseThreshold } from "./commands/dashboard/args.js";
import { ledgerSet, ledgerShow, positionShow } from "./commands/ledger.js";
import { permitGrant, permitShow } from "./commands/permit.js";
import { statusSnapshot } from "./commands/status.js";
import { trend } from "./commands/trend.js";
import { RedisUnreachableError } from "./errors/redis-unreachable-error.js";
import { UsageError } from "./errors/usage-error.js";
import { EXIT, EXIT_CODE_HELP } from "./exit-codes.js";
import { addKill, addState, modeOption } from "./program-control.js";
import { addLedgerAdopt, addOperations } from "./program-ops.js";
import { renderMode } from "./render/control.js";
import { renderDashboard } from "./render/dashboard.js";
import { renderHealth } from "./render/health.js";
import {
  renderLedgerSet,
  renderLedgerShow,
  renderPermitGrant,
  renderPermitShow,
  renderPosition,
} from "./render/records.js";
import { renderStatus } from "./render/status.js";
import { renderTrend } from "./render/trend.js";
import { type CliIo, type CommonOptions, common, Invocation, numberOption, outcome } from "./run.js";
import { watchStatus } from "./watch.js";

const VERSION = "0.1.0";

function healthOpts(o: { host?: string; timeout?: string; services?: string }) {
  const services = o.services?.split(/[\s,]+/).filter((s) => s !== "");
  for (const s of services ?? []) {
    if (!KNOWN_SERVICES.some((k) => k.service === s)) {
      throw new UsageError(
        `--services: unknown service "${s}" (${KNOWN_SERVICES.map((k) => k.service).join(", ")})`,
      );
    }
  }
  const timeoutSec = numberOption("--timeout", o.timeout, 0.1, 60);
  return {
    ...(o.host !== undefined ? { host: o.host } : {}),
    ...(timeoutSec !== undefined ? { timeoutMs: timeoutSec * 1000 } : {}),
    ...(services !== undefined ? { services } : {}),
  };
}

function addRecords(program: Command, inv: Invocation): void {
  common(
    program.command("mode").description("what each service runs as (from quantum:service:<name>:status)"),
  ).action(async (o: CommonOptions) => {
    await inv.withRedis(o, async (redis) => outcome(await readServiceStatuses(redis), renderMode));
  });
  const permit = program.command("permit").description("Governor / P3.3 permits of a plan");
  common(
    permit
      .command("show")
      .description("both permits, the Governor block and the execution record")
      .argument("<plan_id>"),
  ).action(async (planId: string, o: CommonOptions) => {
    await inv.withRedis(o, async (redis) => outcome(await permitShow(redis, planId), renderPermitShow));
  });
  common(
    permit
      .command("grant")
      .description(
        "write a Governor permit (EX 60); refused (exit 2) unless a live service reports a non-production mode",
      )
      .argument("<plan_id>")
      .option("--symbol <symbol>", "symbol (default: from the P3.3 permit, exec record or apply.plan)")
      .option("--qty <qty>", "computed_qty (decimal)")
      .option("--production", "declare this a production Redis (always refused)"),
  ).action(
    async (planId: string, o: CommonOptions & { symbol?: string; qty?: string; production?: boolean }) => {
      await inv.withRedis(o, async (redis) =>
        outcome(
          await permitGrant(redis, planId, {
            production: o.production === true,
            by: inv.io.defaultActor,
            ...(o.symbol !== undefined ? { symbol: o.symbol } : {}),
            ...(o.qty !== undefined ? { qty: o.qty } : {}),
          }),
          renderPermitGrant,
        ),
      );
    },
  );
  const ledger = program.command("ledger").description("position ledger (what this system believes)");
  common(ledger.command("show").argument("<symbol>").description("show the ledger of a symbol")).action(
    async (symbol: string, o: CommonOptions) => {
      await inv.withRedis(o, async (redis) => outcome(await ledgerShow(redis, symbol), renderLedgerShow));
    },
  );
  common(
    ledger
      .command("set")
      .argument("<symbol>")
      .argument("<amt>", "signed decimal amount")
      .description("fix the ledger (source=operator)")
      .option("--reason <text>", "why (recorded in the audit stream)"),
  ).action(async (symbol: string, amt: string, o: CommonOptions & { reason?: string }) => {
    await inv.withRedis(o, async (redis) =>
      outcome(
        await ledgerSet(redis, symbol, amt, {
          by: inv.io.defaultActor,
          ...(o.reason !== undefined ? { reason: o.reason } : {}),
        }),
        renderLedgerSet,
      ),
    );
  });
  addLedgerAdopt(ledger, inv);
  common(
    program
      .command("position")
      .argument("<symbol>")
      .description("snapshot, ledger, operator view and paper position"),
  ).action(async (symbol: string, o: CommonOptions) => {
    await inv.withRedis(o, async (redis) => outcome(await positionShow(redis, symbol), renderPosition));
  });
}

type DashOpts = CommonOptions & {
  symbols?: string;
  threshold?: string;
  minTotal?: string;
  window?: P35SymbolWindow;
  host?: string;
  timeout?: string;
};

function addDashboard(program: Command, inv: Invocation): void {
  common(
    program
      .command("dashboard")
      .description(
        "the P3.5 queries: a why-not-trading, b gates per symbol, c gate share, d drift (exit 3), e health (exit 3)",
      )
      .addArgument(new Argument("<query>").choices(DASHBOARD_QUERIES))
      .argument("[arg]", 'b: symbols ("BTCUSDT ETHUSDT"); c, d: threshold percent (default 40)')
      .option("--symbols <list>", "b/all: symbols, space or comma separated (default: all seen)")
      .option("--threshold <pct>", "c/d/all: gate share threshold in percent (default 40)")
      .option("--min-total <n>", "d: results needed before anything is judged (default 1)")
      .addOption(new Option("--window <w>", "b: per-symbol window (default 15m)").choices(P35_SYMBOL_WINDOWS))
      .option("--host <host>", "e: host of the services' /health (default 127.0.0.1)")
      .option("--timeout <sec>", "e: /health timeout in seconds (default 2)"),
  ).action(async (query: DashboardQuery, arg: string | undefined, o: DashOpts) => {
    inv.json = o.json === true;
    if (arg !== undefined && !["b", "c", "d"].includes(query)) {
      throw new UsageError(`dashboard ${query} takes no argument (got "${arg}")`);
    }
    const symbols = parseSymbolList(query === "b" && arg !== undefined ? arg : o.symbols);
    const thresholdText = (query === "c" || query === "d") && arg !== undefined ? arg : o.threshold;
    const thresholdPct = parseThreshold(thresholdText);
    const minTotal = numberOption("--min-total", o.minTotal, 0, Number.MAX_SAFE_INTEGER);
    await inv.withRedis(o, async (redis) => {
      const r = await dashboard(redis, query, {
        symbols,
        thresholdPct,
        ...(minTotal !== undefined ? { minTotal } : {}),
        ...(o.window !== undefined ? { symbolWindow: o.window } : {}),
        health: healthOpts(o),
      });
      return outcome(r, renderDashboard, dashboardCondition(r) ? EXIT.condition : EXIT.ok);
    });
  });
}

function addTrend(program: Command, inv: Invocation): void {
  common(
    program
      .command("trend")
      .description(
        "week-over-week change of the P3.5 decision mix and top gates, from the daily rollups (last N complete UTC days vs the N before)",
      )
      .option("--days <n>", "days per period (default 7)", "7"),
  ).action(async (o: CommonOptions & { days: string }) => {
    inv.json = o.json === true;
    const days = numberOption("--days", o.days, 1, 45) ?? 7;
    if (!Number.isInteger(days)) throw new UsageError(`--days: expected a whole number, got "${o.days}"`);
    await inv.withRedis(o, async (redis) => outcome(await trend(redis, { days }), renderTrend));
  });
}

function addHealthStatus(program: Command, inv: Invocation): void {
  common(
    program
      .command("health")
      .description(
        "Redis PING and each service's /health; exit 3 when a service is unhealthy, 1 when Redis is down",
      )
      .option("--host <host>", "host of the services' /health (default 127.0.0.1)")
      .option("--timeout <sec>", "/health timeout in seconds (default 2)")
      .option("--services <list>", `only these (${KNOWN_SERVICES.map((s) => s.service).join(",")})`),
  ).action(async (o: CommonOptions & { host?: string; timeout?: string; services?: string }) => {
    inv.json = o.json === true;
    const ho = healthOpts(o);
    try {
      await inv.withRedis(o, async (redis) => {
        const r = await health(redis, ho);
        return outcome(r, renderHealth, r.healthy ? EXIT.ok : EXIT.condition);
      });
    } catch (err) {
      if (!(err instanceof RedisUnreachableError)) throw err;
      // Redis down: still probe the services (on their default ports) and exit 1.
      const r = await health(null, { ...ho, redisError: err.message });
      inv.emit(outcome(r, renderHealth, EXIT.failure), o);
    }
  });
  common(
    program
      .command("status")
      .description("one-screen summary: kill switch, trading state, services, P3.5 windows, last results")
      .option("--watch", "redraw until Ctrl-C")
      .option("--interval <sec>", "--watch refresh interval in seconds", "2")
      .addOption(modeOption()),
  ).action(async (o: CommonOptions & { watch?: boolean; interval: string; mode?: ApplyMode }) => {
    inv.json = o.json === true;
    const intervalSec = numberOption("--interval", o.interval, 0.1, 3600) ?? 2;
    if (o.watch) {
      await watchStatus(inv, {
        url: inv.redisUrl(o),
        json: o.json === true,
        intervalSec,
        ...(o.mode !== undefined ? { mode: o.mode } : {}),
      });
      return;
    }
    await inv.withRedis(o, async (redis) =>
      outcome(
        await statusSnapshot(redis, {
          ...(o.mode !== undefined ? { mode: o.mode } : {}),
          ...(inv.io.env.APPLY_MODE !== undefined ? { envMode: inv.io.env.APPLY_MODE } : {}),
        }),
        renderStatus,
      ),
    );
  });
}

export function buildProgram(inv: Invocation): Command {
  const program = new Command("quantumctl")
    .description(
      "Operator CLI of Quantum P3 (kill switch, trading state, permits, ledger, positions, close, audit, P3.5 dashboard, health)",
    )
    .version(VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText(
      "after",
      `\nEvery command takes --redis-url URL and --json. Colours only on a TTY (never with --json or NO_COLOR).\n\n${EXIT_CODE_HELP}`,
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => inv.io.stdout(s), writeErr: (s) => inv.io.stderr(s) });
  addKill(program, inv);
  addState(program, inv);
  addRecords(program, inv);
  addDashboard(program, inv);
  addTrend(program, inv);
  addHealthStatus(program, inv);
  addOperations(program, inv);
  // Every subcommand: commander errors throw (exitOverride) and print through io; a command group called
  // without its subcommand (`quantumctl kill`) is a usage error, never a silent success.
  const apply = (cmd: Command) => {
    cmd
      .exitOverride()
      .configureOutput({ writeOut: (s) => inv.io.stdout(s), writeErr: (s) => inv.io.stderr(s) });
    if (cmd.commands.length > 0) {
      const names = cmd.commands.map((c) => c.name()).join(", ");
      cmd.action(() => {
        cmd.outputHelp({ error: true });
        throw new UsageError(`${cmd.name()}: a subcommand is required (${names})`);
      });
    }
    cmd.commands.forEach(apply);
  };
  program.commands.forEach(apply);
  return program;
}

/** Run quantumctl with the given arguments (without `node main.js`); returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const inv = new Invocation(io);
  const program = buildProgram(inv);
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.usage;
    }
    await program.parseAsync([...argv], { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      const ok = ["commander.helpDisplayed", "commander.version", "commander.help"].includes(err.code);
      return ok ? EXIT.ok : err.code === "commander.executeSubCommandAsync" ? EXIT.failure : EXIT.usage;
    }
    inv.fail(err);
  }
  return inv.exitCode;
}
