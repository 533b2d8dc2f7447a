import { APPLY_MODES, type ApplyMode, TRADING_STATES } from "@quantum/contracts";
import { Argument, type Command, Option } from "commander";
import { killStatus, setKillSwitch } from "./commands/kill.js";
import { stateSet, stateShow } from "./commands/state.js";
import { UsageError } from "./errors/usage-error.js";
import { EXIT } from "./exit-codes.js";
import { renderKillSet, renderKillStatus, renderStateSet, renderStateShow } from "./render/control.js";
import { type CommonOptions, common, type Invocation, numberOption, outcome } from "./run.js";

/** `--mode`: the mode a missing control key is judged by. */
export const modeOption = (): Option =>
  new Option(
    "--mode <mode>",
    "mode used to judge a missing key (default: the live services' status, APPLY_MODE, else production)",
  ).choices(APPLY_MODES);

/** `kill on|off|status`: the global kill switch. */
export function addKill(program: Command, inv: Invocation): void {
  const kill = program.command("kill").description("global kill switch (quantum:global:kill_switch)");
  for (const on of [true, false]) {
    common(
      kill
        .command(on ? "on" : "off")
        .description(on ? "halt all trading (requires --reason)" : "allow trading again")
        .option(
          "--reason <text>",
          on ? "why (required)" : "why (optional; clears the old reason when omitted)",
        )
        .option("--by <name>", "who (default: user@host)")
        .option("--wait-timeout <ms>", "timeout of WAIT / WAITAOF in ms", "1000")
        .option(
          "--drain-timeout <ms>",
          "kill on: how long to wait for orders already in flight to settle (exit 3 if they do not)",
          "10000",
        ),
    ).action(
      async (
        o: CommonOptions & { reason?: string; by?: string; waitTimeout: string; drainTimeout: string },
      ) => {
        const waitTimeoutMs = numberOption("--wait-timeout", o.waitTimeout, 1, 60_000) ?? 1000;
        const drainTimeoutMs = numberOption("--drain-timeout", o.drainTimeout, 0, 120_000) ?? 10_000;
        if (on && (o.reason ?? "").trim() === "") {
          inv.json = o.json === true;
          throw new UsageError("kill on: --reason TEXT is required (why is trading being stopped?)");
        }
        await inv.withRedis(
          o,
          async (redis) => {
            const r = await setKillSwitch(redis, on, {
              ...(o.reason !== undefined ? { reason: o.reason } : {}),
              by: o.by ?? inv.io.defaultActor,
              waitTimeoutMs,
              drainTimeoutMs,
            });
            const settled = r.inFlight === null || r.inFlight.drained;
            return outcome(r, renderKillSet, r.durability.complete && settled ? EXIT.ok : EXIT.condition);
          },
          { commandTimeoutMs: waitTimeoutMs + drainTimeoutMs + 5000 },
        );
      },
    );
  }
  common(
    kill
      .command("status")
      .description("show the kill switch and who changed it last; exit 0 OFF, 3 ON (halted)")
      .addOption(modeOption()),
  ).action(async (o: CommonOptions & { mode?: ApplyMode }) => {
    await inv.withRedis(o, async (redis) => {
      const r = await killStatus(redis, {
        ...(o.mode !== undefined ? { mode: o.mode } : {}),
        ...(inv.io.env.APPLY_MODE !== undefined ? { envMode: inv.io.env.APPLY_MODE } : {}),
      });
      return outcome(r, renderKillStatus, r.halted ? EXIT.condition : EXIT.ok);
    });
  });
}

/** `state set|show`: the trading state. */
export function addState(program: Command, inv: Invocation): void {
  const state = program.command("state").description("trading state (quantum:global:trading_state)");
  common(
    state
      .command("set")
      .description("set the trading state")
      .addArgument(new Argument("<state>", TRADING_STATES.join("|")))
      .option("--reason <text>", "why (recorded with the change and in the audit stream)"),
  ).action(async (value: string, o: CommonOptions & { reason?: string }) => {
    await inv.withRedis(o, async (redis) =>
      outcome(
        await stateSet(redis, value, {
          by: inv.io.defaultActor,
          ...(o.reason !== undefined ? { reason: o.reason } : {}),
        }),
        renderStateSet,
      ),
    );
  });
  common(state.command("show").description("show the trading state; exit 3 when HALTED")).action(
    async (o: CommonOptions) => {
      await inv.withRedis(o, async (redis) => {
        const r = await stateShow(redis);
        return outcome(r, renderStateShow, r.halted ? EXIT.condition : EXIT.ok);
      });
    },
  );
}
