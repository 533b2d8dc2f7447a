import type { ApplyPlan } from "@quantum/contracts";
import { readKillSwitch, readTradingState } from "@quantum/permits";
import type { Redis } from "ioredis";
import type { ApplyConfig } from "../config.js";
import { checkAllowlist, checkEnvKillSwitch } from "../plan-gates.js";
import { DRY_RUN_CONTEXT } from "../result-publisher.js";
import { type Stop, stopWith } from "./stop.js";

/**
 * The one gate every plan passes before it waits for or consumes anything, whichever door it came in by
 * (fresh, resumed after a restart, found by recovery), against the *current* config and control keys:
 * env kill switch, allowlist, mode (dry_run never consumes), kill switch, trading state. A Stop ends the plan
 * with that result and nothing consumed; null lets it go on.
 */
export class EntryGate {
  constructor(
    private readonly redis: Redis,
    private readonly cfg: ApplyConfig,
  ) {}

  async check(plan: Pick<ApplyPlan, "symbol">): Promise<Stop | null> {
    const { cfg } = this;
    const planning = checkEnvKillSwitch(plan, cfg) ?? checkAllowlist(plan, cfg);
    if (planning !== null) return stopWith(planning.decision, planning.reason, planning.context);
    const [ks, ts] = await Promise.all([readKillSwitch(this.redis, cfg.mode), readTradingState(this.redis)]);
    if (ks.halted || ts.halted) {
      return stopWith(
        "BLOCKED",
        ks.halted ? "kill_switch_active" : "trading_state_halted",
        { checked: "before_permit_wait" },
        "kill_switch",
      );
    }
    if (cfg.mode === "dry_run") {
      return stopWith("EXECUTE", "none", DRY_RUN_CONTEXT);
    }
    return null;
  }
}
