import { encodeGovernorPermit, encodeP33Permit, type HarvestProposal, keys } from "@quantum/contracts";
import { clientOrderIdFor } from "@quantum/exchange";
import { closeProposalAt, streamProposal } from "@quantum/testkit";
import { Decimal } from "decimal.js";
import type fc from "fast-check";
import { armFault, ORDER_FAULTS, STOP_FAULTS } from "./model-faults.js";
import type { ModelSymbol, ModelWorld } from "./model-world.js";

/**
 * fast-check commands of the model test: random interleavings of proposals, permits, control-key flips,
 * venue faults and Apply Layer SIGKILLs. The model only tracks what a command may do next (plans waiting
 * for permits, the control keys, how many restarts); the invariants are judged afterwards from what the
 * venue and Redis recorded.
 */
export interface Model {
  /** Plans proposed whose permits the run has not written yet. */
  waiting: string[];
  killOn: boolean;
  halted: boolean;
  restarts: number;
  proposals: number;
  /** Venue faults injected. */
  faults: number;
  /** A crash hook was armed (it may still be waiting for its point). */
  crashArmed: boolean;
}

export type ModelCommand = fc.AsyncCommand<Model, ModelWorld>;

/** Share of the position each close action closes (the model's own table, independent of the service's). */
export const CLOSE_SHARE: Readonly<Record<string, string>> = {
  FULL_CLOSE_PROPOSED: "1",
  PARTIAL_75: "0.75",
  PARTIAL_50: "0.5",
};
export const ACTIONS = ["FULL_CLOSE_PROPOSED", "PARTIAL_50", "PARTIAL_75", "UPDATE_SL"] as const;
export type Action = (typeof ACTIONS)[number];
export const MAX_PROPOSALS = 10;
export const MAX_RESTARTS = 2;

let stampMs = Date.parse("2026-03-01T00:00:00Z");

export class Propose implements ModelCommand {
  constructor(
    readonly symbol: ModelSymbol,
    readonly action: Action,
    readonly slPrice: number,
  ) {}
  /** The plan this command proposed (once it ran). */
  planId: string | null = null;
  check = (m: Readonly<Model>) => m.proposals < MAX_PROPOSALS;
  async run(m: Model, w: ModelWorld): Promise<void> {
    stampMs += 1000;
    const over: Partial<HarvestProposal> =
      this.action === "UPDATE_SL"
        ? { action: this.action, newSlProposed: this.slPrice }
        : { action: this.action };
    const planId = await streamProposal(w.r, closeProposalAt(this.symbol, stampMs, over));
    this.planId = planId;
    w.plans.push({
      planId,
      symbol: this.symbol,
      action: this.action,
      slPrice: this.action === "UPDATE_SL" ? this.slPrice : null,
    });
    m.waiting.push(planId);
    m.proposals += 1;
  }
  toString = () =>
    `propose(${this.symbol}, ${this.action}${this.action === "UPDATE_SL" ? ` @${this.slPrice}` : ""})`;
}

/** The client order id of a plan's first order (chunk 0 of a close, or the new stop of an UPDATE_SL). */
export function firstOrderId(planId: string, action: string): string {
  return clientOrderIdFor(planId, action === "UPDATE_SL" ? "stop" : "close");
}

/**
 * Write the permits of one waiting plan, as the Governor and P3.3 would: the P3.3 allow is sized from the
 * venue's position at this moment (and names that moment as its basis); a flat position is denied.
 */
export class Grant implements ModelCommand {
  constructor(
    readonly pick: number,
    readonly governorGrants: boolean,
    /**
     * A venue fault armed right before the permits for this plan's requests (its first order's POST or
     * lookup), chosen among those a close or an UPDATE_SL meets.
     */
    readonly fault: number | null = null,
  ) {}
  private faultName: string | null = null;
  check = (m: Readonly<Model>) => m.waiting.length > 0;
  async run(m: Model, w: ModelWorld): Promise<void> {
    const planId = m.waiting[this.pick % m.waiting.length];
    if (planId === undefined) throw new Error("grant with no plan waiting");
    await this.grantPlan(m, w, planId);
  }

  /** Grant this plan (taken off the waiting list), arming the fault first. */
  async grantPlan(m: Model, w: ModelWorld, planId: string): Promise<void> {
    m.waiting = m.waiting.filter((id) => id !== planId);
    const plan = w.plans.find((p) => p.planId === planId);
    if (plan === undefined) throw new Error("grant of an unknown plan");
    if (this.fault !== null) {
      const names: readonly string[] = plan.action === "UPDATE_SL" ? STOP_FAULTS : ORDER_FAULTS;
      this.faultName = names[this.fault % names.length] as string;
      armFault(w, this.faultName, firstOrderId(planId, plan.action));
      m.faults += 1;
    }
    const sizedAtMs = Date.now();
    const amt = w.fake.position(plan.symbol)?.positionAmt ?? "0";
    await writePermits(w, planId, plan.symbol, plan.action, this.governorGrants, amt, sizedAtMs);
  }
  toString = () =>
    `${this.fault !== null ? `fault(${this.faultName ?? `#${this.fault}`}), ` : ""}grant(waiting[${this.pick}]${this.governorGrants ? "" : ", governor denies"})`;
}

/** The Governor's and P3.3's permits of a plan, sized from the venue position `amt` read at `sizedAtMs`. */
export async function writePermits(
  w: ModelWorld,
  planId: string,
  symbol: string,
  action: string,
  governorGrants: boolean,
  amt: string,
  sizedAtMs: number,
): Promise<void> {
  const flat = new Decimal(amt).isZero();
  const safeQty = flat
    ? null
    : new Decimal(amt)
        .abs()
        .mul(CLOSE_SHARE[action] ?? "1")
        .toFixed();
  await w.r.set(
    keys.governorPermit(planId),
    encodeGovernorPermit({
      granted: governorGrants,
      symbol,
      decision: governorGrants ? "EXECUTE" : "BLOCKED",
      computedQty: null,
      computedNotional: null,
      createdAt: sizedAtMs / 1000,
      consumed: false,
    }),
    "EX",
    60,
  );
  const p33 =
    safeQty === null
      ? encodeP33Permit({
          allow: false,
          symbol,
          reason: "no_position",
          context: { exchange_amt: amt },
          createdAt: sizedAtMs / 1000,
        })
      : encodeP33Permit({
          allow: true,
          symbol,
          safeQty,
          exchangePositionAmt: amt,
          ledgerAmt: amt,
          createdAt: sizedAtMs / 1000,
          reason: "sanity_checks_passed",
          venue: "testnet",
          positionSide: "BOTH",
          ledgerResultPlanId: null,
          snapshotTs: sizedAtMs / 1000,
        });
  await w.r.set(keys.p33Permit(planId), p33, "EX", 60);
  w.permits.set(planId, {
    granted: governorGrants && safeQty !== null,
    basisAmt: safeQty === null ? null : amt,
    safeQty,
    sizedAtMs,
  });
}

export class KillSwitch implements ModelCommand {
  constructor(readonly on: boolean) {}
  check = (m: Readonly<Model>) => m.killOn !== this.on;
  async run(m: Model, w: ModelWorld): Promise<void> {
    await w.setControl(keys.killSwitch, this.on ? "true" : "false");
    m.killOn = this.on;
  }
  toString = () => `killSwitch(${this.on ? "on" : "off"})`;
}

export class TradingState implements ModelCommand {
  constructor(readonly halted: boolean) {}
  check = (m: Readonly<Model>) => m.halted !== this.halted;
  async run(m: Model, w: ModelWorld): Promise<void> {
    await w.setControl(keys.tradingState, this.halted ? "HALTED" : "ACTIVE");
    m.halted = this.halted;
  }
  toString = () => `tradingState(${this.halted ? "HALTED" : "ACTIVE"})`;
}

/** A fault for the next request of its kind, whichever plan makes it. */
export class Fault implements ModelCommand {
  constructor(readonly name: string) {}
  check = () => true;
  async run(m: Model, w: ModelWorld): Promise<void> {
    armFault(w, this.name, null);
    m.faults += 1;
  }
  toString = () => `fault(${this.name})`;
}

export class Restart implements ModelCommand {
  constructor(readonly crashAt: string | null) {}
  check = (m: Readonly<Model>) => m.restarts < MAX_RESTARTS;
  async run(m: Model, w: ModelWorld): Promise<void> {
    await w.killAndRestart(this.crashAt);
    m.restarts += 1;
    if (this.crashAt !== null) m.crashArmed = true;
  }
  toString = () => `sigkillApply(${this.crashAt === null ? "now" : `then crash at ${this.crashAt}`})`;
}

/** Let the system run for a while (the interleavings need time between commands, not only their order). */
export class Pause implements ModelCommand {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.ms));
  }
  toString = () => `pause(${this.ms}ms)`;
}

/**
 * Grant a plan, then flip a control key after `delayMs`: lands the flip while that plan is being executed
 * (consumed, looking its client id up, at the gate, or in flight), the interleaving the gate exists for.
 * With `slowLookups` the venue first gets slow lookups (orders and stops), which widen the window between
 * the consume and the gate.
 */
export class GrantThenFlip implements ModelCommand {
  constructor(
    readonly grant: Grant,
    readonly delayMs: number,
    readonly flip: KillSwitch | TradingState,
    readonly slowLookups: boolean,
  ) {}
  check = (m: Readonly<Model>) => this.grant.check(m) && this.flip.check(m);
  async run(m: Model, w: ModelWorld): Promise<void> {
    if (this.slowLookups) {
      for (const name of ["slowLookup", "slowStopLookup"]) await new Fault(name).run(m, w);
    }
    await this.grant.run(m, w);
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    await this.flip.run(m, w);
  }
  toString = () =>
    `${this.slowLookups ? "slow lookups, " : ""}${this.grant}, after ${this.delayMs}ms ${this.flip}`;
}

export function initialModel(): Model {
  return {
    waiting: [],
    killOn: false,
    halted: false,
    restarts: 0,
    proposals: 0,
    faults: 0,
    crashArmed: false,
  };
}
