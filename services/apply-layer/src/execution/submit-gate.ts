import type { ExecState } from "@quantum/contracts";
import type { ApplyMetrics } from "@quantum/metrics";
import { beginSubmit } from "@quantum/permits";
import type { Redis } from "ioredis";
import type { ApplyConfig } from "../config.js";
import { RECORD_EXTRA } from "./execution-record.js";
import { type Stop, stopWith } from "./stop.js";

/** Who is working on a plan: its ids and the symbol-lock token of the holder. */
export interface PlanRun {
  readonly planId: string;
  readonly symbol: string;
  readonly action: string;
  /** This holder's symbol-lock token; the gate refuses once the lock holds another. */
  readonly lockToken: string;
  readonly waitMs: number;
}

/** What the gate says about the next order request. */
export type GateVerdict =
  /** Send now, with no awaited I/O before the request. */
  | { kind: "go" }
  /** Kill switch or trading state: the plan ends with this Stop. */
  | { kind: "stop"; stop: Stop }
  /** The lock was lost or the record moved under us: stop working, leave the record to its new holder. */
  | { kind: "abandon"; why: string };

/**
 * The last step before each order request (beginSubmit-5.lua): kill switch, trading state and the holder's
 * symbol lock, checked atomically with the record's move to SUBMITTING. Once the kill switch SET has returned,
 * no request can start.
 */
export class SubmitGate {
  constructor(
    private readonly redis: Redis,
    private readonly cfg: ApplyConfig,
    private readonly metrics: ApplyMetrics,
  ) {}

  async pass(
    run: PlanRun,
    expected: readonly ExecState[],
    fields: Readonly<Record<string, string>>,
  ): Promise<GateVerdict> {
    if (this.cfg.envKillSwitch) {
      return {
        kind: "stop",
        stop: stopWith("BLOCKED", "kill_switch_active", { apply_kill_switch: true }, "kill_switch"),
      };
    }
    const gate = await beginSubmit(this.redis, {
      planId: run.planId,
      symbol: run.symbol,
      mode: this.cfg.mode,
      expected,
      lockToken: run.lockToken,
      fields: {
        ...fields,
        [RECORD_EXTRA.holder]: run.lockToken,
        [RECORD_EXTRA.action]: run.action,
        [RECORD_EXTRA.permitWaitMs]: String(Math.round(run.waitMs * 1000) / 1000),
      },
    });
    const halted = gate.outcome === "kill_switch_active" || gate.outcome === "trading_state_halted";
    this.metrics.killSwitchActive.set(halted || this.cfg.envKillSwitch ? 1 : 0);
    switch (gate.outcome) {
      case "ok":
        return { kind: "go" };
      case "kill_switch_active":
      case "trading_state_halted":
        return {
          kind: "stop",
          stop: stopWith("BLOCKED", gate.outcome, { checked: "submit_gate" }, "kill_switch"),
        };
      case "lock_lost":
        return { kind: "abandon", why: "symbol lock lost" };
      case "state_mismatch":
        return { kind: "abandon", why: `record is ${gate.currentState ?? "without state"}` };
      case "missing":
        return { kind: "abandon", why: "record missing" };
    }
  }
}
