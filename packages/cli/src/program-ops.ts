import type { Command } from "commander";
import type { Redis } from "ioredis";
import { closePosition, DEFAULT_CLOSE_TIMEOUT_SEC } from "./commands/close.js";
import { setHold } from "./commands/hold.js";
import { ledgerAdopt } from "./commands/ledger.js";
import { validateSymbol } from "./commands/permit.js";
import { p33Timing, positions } from "./commands/positions.js";
import {
  listAlerts,
  listAudit,
  listDeadLetters,
  listResults,
  type StreamListResult,
} from "./commands/stream-list.js";
import { UsageError } from "./errors/usage-error.js";
import { EXIT } from "./exit-codes.js";
import {
  renderAlerts,
  renderAudit,
  renderClose,
  renderDeadLetters,
  renderHold,
  renderLedgerAdopt,
  renderPositions,
  renderResults,
} from "./render/operations.js";
import type { Style } from "./render/style.js";
import { type CommonOptions, common, type Invocation, numberOption, outcome, timeOption } from "./run.js";

/** Most entries a list command prints. */
const MAX_LIMIT = 10_000;

function limitOption(v: string | undefined, fallback: number): number {
  const n = numberOption("--limit", v, 1, MAX_LIMIT) ?? fallback;
  if (!Number.isInteger(n)) throw new UsageError(`--limit: expected a whole number, got "${v}"`);
  return n;
}

/** `ledger adopt <SYMBOL>` (added to the `ledger` group). */
export function addLedgerAdopt(ledger: Command, inv: Invocation): void {
  common(
    ledger
      .command("adopt")
      .argument("<symbol>")
      .option("--reason <text>", "why (recorded in the audit stream)")
      .description(
        "ledger := the exchange snapshot's position_amt; refused (exit 2) when the snapshot is missing or stale",
      ),
  ).action(async (symbol: string, o: CommonOptions & { reason?: string }) => {
    await inv.withRedis(o, async (redis) => {
      const timing = await p33Timing(redis, inv.io.env);
      const r = await ledgerAdopt(redis, symbol, {
        by: inv.io.defaultActor,
        staleThresholdSec: timing.staleThresholdSec,
        ...(o.reason !== undefined ? { reason: o.reason } : {}),
      });
      return outcome(r, renderLedgerAdopt);
    });
  });
}

function addHold(program: Command, inv: Invocation): void {
  const hold = program
    .command("hold")
    .description("reconcile hold of a symbol (P3.3 denies its plans with reconcile_hold_active)");
  for (const on of [true, false]) {
    common(
      hold
        .command(on ? "on" : "off")
        .argument("<symbol>")
        .option("--reason <text>", on ? "why (required)" : "why (optional)")
        .description(on ? "hold the symbol (requires --reason)" : "release the hold"),
    ).action(async (symbol: string, o: CommonOptions & { reason?: string }) => {
      inv.json = o.json === true;
      if (on && (o.reason ?? "").trim() === "") {
        throw new UsageError("hold on: --reason TEXT is required (why hold this symbol?)");
      }
      await inv.withRedis(o, async (redis) =>
        outcome(
          await setHold(redis, symbol, on, {
            by: inv.io.defaultActor,
            ...(o.reason !== undefined ? { reason: o.reason } : {}),
          }),
          renderHold,
        ),
      );
    });
  }
}

function addClose(program: Command, inv: Invocation): void {
  common(
    program
      .command("close")
      .argument("<symbol>")
      .option("--fraction <f>", "1 (FULL_CLOSE_PROPOSED), 0.75 (PARTIAL_75) or 0.5 (PARTIAL_50)", "1")
      .option("--reason <text>", "why (required in production)")
      .option("--timeout <sec>", "how long to wait for the result", String(DEFAULT_CLOSE_TIMEOUT_SEC))
      .description(
        "close a position through the safety layer (kill switch, both permits); waits for and prints the result. " +
          "Exit 0 EXECUTE, 3 BLOCKED/SKIP/ERROR, 4 no result in time",
      ),
  ).action(
    async (symbol: string, o: CommonOptions & { fraction?: string; reason?: string; timeout: string }) => {
      inv.json = o.json === true;
      const timeoutSec = numberOption("--timeout", o.timeout, 1, 3600) ?? DEFAULT_CLOSE_TIMEOUT_SEC;
      await inv.withRedis(o, async (redis) => {
        const r = await closePosition(redis, symbol, {
          by: inv.io.defaultActor,
          timeoutMs: timeoutSec * 1000,
          ...(o.fraction !== undefined ? { fraction: o.fraction } : {}),
          ...(o.reason !== undefined ? { reason: o.reason } : {}),
          ...(inv.io.env.APPLY_MODE !== undefined ? { envMode: inv.io.env.APPLY_MODE } : {}),
        });
        const exit =
          r.resultId === null ? EXIT.timeout : r.result?.decision === "EXECUTE" ? EXIT.ok : EXIT.condition;
        return outcome(r, renderClose, exit);
      });
    },
  );
}

function addLists(program: Command, inv: Invocation): void {
  common(
    program
      .command("positions")
      .description(
        "every allowlisted symbol: exchange, ledger, drift, snapshot age, reconcile hold, cooldown left",
      ),
  ).action(async (o: CommonOptions) => {
    await inv.withRedis(o, async (redis) =>
      outcome(await positions(redis, { env: inv.io.env }), renderPositions),
    );
  });
  common(
    program
      .command("results")
      .description("apply.result, newest first")
      .option("--symbol <symbol>", "only this symbol")
      .option("--since <time>", "only entries since this time (epoch seconds or ISO)")
      .option("--limit <n>", "at most n entries", "20"),
  ).action(async (o: CommonOptions & { symbol?: string; since?: string; limit?: string }) => {
    inv.json = o.json === true;
    const limit = limitOption(o.limit, 20);
    const sinceMs = timeOption("--since", o.since);
    const symbol = o.symbol === undefined ? undefined : validateSymbol(o.symbol);
    await inv.withRedis(o, async (redis) =>
      outcome(
        await listResults(redis, {
          limit,
          ...(sinceMs !== undefined ? { sinceMs } : {}),
          ...(symbol !== undefined ? { symbol } : {}),
        }),
        renderResults,
      ),
    );
  });
  addList(
    program,
    inv,
    "deadletters",
    "dead-lettered entries (quantum:stream:deadletter)",
    listDeadLetters,
    renderDeadLetters,
  );
  addList(program, inv, "alerts", "P3.5 alerts (quantum:p35:alerts)", listAlerts, renderAlerts);
  addList(program, inv, "audit", "who changed what (quantum:audit)", listAudit, renderAudit);
}

/** A `<name> [--limit N]` command listing a stream, newest first. */
function addList<T>(
  program: Command,
  inv: Invocation,
  name: string,
  what: string,
  list: (redis: Redis, opts: { limit: number }) => Promise<StreamListResult<T>>,
  render: (r: StreamListResult<T>, st: Style) => string,
): void {
  common(
    program
      .command(name)
      .description(`${what}, newest first`)
      .option("--limit <n>", "at most n entries", "20"),
  ).action(async (o: CommonOptions & { limit?: string }) => {
    inv.json = o.json === true;
    const limit = limitOption(o.limit, 20);
    await inv.withRedis(o, async (redis) => outcome(await list(redis, { limit }), render));
  });
}

/** The operations commands: hold, close, positions, results, deadletters, alerts, audit. */
export function addOperations(program: Command, inv: Invocation): void {
  addHold(program, inv);
  addClose(program, inv);
  addLists(program, inv);
}
