import { encodeGovernorPermit, encodeP33Permit, type HarvestProposal, keys } from "@quantum/contracts";
import { closeProposalAt, type FakeFaultSpec, streamProposal } from "@quantum/testkit";
import { Decimal } from "decimal.js";
import fc from "fast-check";
import { MODEL_SYMBOLS, type ModelSymbol, type ModelWorld } from "./model-world.js";

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
}

export type ModelCommand = fc.AsyncCommand<Model, ModelWorld>;

/** Share of the position each close action closes (the model's own table, independent of the service's). */
export const CLOSE_SHARE: Readonly<Record<string, string>> = {
  FULL_CLOSE_PROPOSED: "1",
  PARTIAL_75: "0.75",
  PARTIAL_50: "0.5",
};
const ACTIONS = ["FULL_CLOSE_PROPOSED", "PARTIAL_50", "PARTIAL_75", "UPDATE_SL"] as const;
const MAX_PROPOSALS = 10;
const MAX_RESTARTS = 2;

let stampMs = Date.parse("2026-03-01T00:00:00Z");

class Propose implements ModelCommand {
  constructor(
    readonly symbol: ModelSymbol,
    readonly action: (typeof ACTIONS)[number],
    readonly slPrice: number,
  ) {}
  check = (m: Readonly<Model>) => m.proposals < MAX_PROPOSALS;
  async run(m: Model, w: ModelWorld): Promise<void> {
    stampMs += 1000;
    const over: Partial<HarvestProposal> =
      this.action === "UPDATE_SL"
        ? { action: this.action, newSlProposed: this.slPrice }
        : { action: this.action };
    const planId = await streamProposal(w.r, closeProposalAt(this.symbol, stampMs, over));
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

/**
 * Write the permits of one waiting plan, as the Governor and P3.3 would: the P3.3 allow is sized from the
 * venue's position at this moment (and names that moment as its basis); a flat position is denied.
 */
class Grant implements ModelCommand {
  constructor(
    readonly pick: number,
    readonly governorGrants: boolean,
    /** A venue fault injected right before the permits, chosen among those this plan's requests meet. */
    readonly fault: number | null = null,
  ) {}
  private faultName: string | null = null;
  check = (m: Readonly<Model>) => m.waiting.length > 0;
  async run(m: Model, w: ModelWorld): Promise<void> {
    const [planId] = m.waiting.splice(this.pick % m.waiting.length, 1);
    const plan = w.plans.find((p) => p.planId === planId);
    if (planId === undefined || plan === undefined) throw new Error("grant of an unknown plan");
    if (this.fault !== null) {
      const names = plan.action === "UPDATE_SL" ? STOP_FAULTS : ORDER_FAULTS;
      this.faultName = names[this.fault % names.length] as string;
      await new Fault(this.faultName).run(m, w);
    }
    const sizedAtMs = Date.now();
    const amt = w.fake.position(plan.symbol)?.positionAmt ?? "0";
    const flat = new Decimal(amt).isZero();
    const safeQty = flat
      ? null
      : new Decimal(amt)
          .abs()
          .mul(CLOSE_SHARE[plan.action] ?? "1")
          .toFixed();
    await w.r.set(
      keys.governorPermit(planId),
      encodeGovernorPermit({
        granted: this.governorGrants,
        symbol: plan.symbol,
        decision: this.governorGrants ? "EXECUTE" : "BLOCKED",
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
            symbol: plan.symbol,
            reason: "no_position",
            context: { exchange_amt: amt },
            createdAt: sizedAtMs / 1000,
          })
        : encodeP33Permit({
            allow: true,
            symbol: plan.symbol,
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
      granted: this.governorGrants && safeQty !== null,
      basisAmt: safeQty === null ? null : amt,
      safeQty,
      sizedAtMs,
    });
  }
  toString = () =>
    `${this.fault !== null ? `fault(${this.faultName ?? `#${this.fault}`}), ` : ""}grant(waiting[${this.pick}]${this.governorGrants ? "" : ", governor denies"})`;
}

class KillSwitch implements ModelCommand {
  constructor(readonly on: boolean) {}
  check = (m: Readonly<Model>) => m.killOn !== this.on;
  async run(m: Model, w: ModelWorld): Promise<void> {
    await w.setControl(keys.killSwitch, this.on ? "true" : "false");
    m.killOn = this.on;
  }
  toString = () => `killSwitch(${this.on ? "on" : "off"})`;
}

class TradingState implements ModelCommand {
  constructor(readonly halted: boolean) {}
  check = (m: Readonly<Model>) => m.halted !== this.halted;
  async run(m: Model, w: ModelWorld): Promise<void> {
    await w.setControl(keys.tradingState, this.halted ? "HALTED" : "ACTIVE");
    m.halted = this.halted;
  }
  toString = () => `tradingState(${this.halted ? "HALTED" : "ACTIVE"})`;
}

const ORDER = { method: "POST", path: "/fapi/v1/order" } as const;
/** The venue faults a run draws from (each applies to the next matching request). */
export const FAULTS: Readonly<Record<string, FakeFaultSpec>> = {
  accepted202: { ...ORDER, kind: "statusAfterFill", status: 202 },
  garbled: { ...ORDER, kind: "garbledAfterFill" },
  serverError: { ...ORDER, kind: "serverError", status: 503 },
  dropAfterFill: { ...ORDER, kind: "dropAfterFill" },
  rateLimited: { ...ORDER, kind: "rateLimit", status: 429, retryAfterSec: 1 },
  slowLookup: { method: "GET", path: "/fapi/v1/order", kind: "slow", delayMs: 600 },
  slowStopLookup: { method: "GET", path: "/fapi/v1/algoOrder", kind: "slow", delayMs: 600 },
  stopWouldTrigger: {
    method: "POST",
    path: "/fapi/v1/algoOrder",
    kind: "reject",
    code: -2021,
    msg: "Order would immediately trigger.",
  },
};

/** Faults a close's requests meet, and those an UPDATE_SL's requests meet. */
const ORDER_FAULTS = ["accepted202", "garbled", "serverError", "dropAfterFill", "rateLimited", "slowLookup"];
const STOP_FAULTS = ["stopWouldTrigger", "slowStopLookup"];

class Fault implements ModelCommand {
  constructor(readonly name: string) {}
  check = () => true;
  async run(m: Model, w: ModelWorld): Promise<void> {
    const spec = FAULTS[this.name];
    if (spec === undefined) throw new Error(`unknown fault ${this.name}`);
    w.fake.injectFault(spec);
    m.faults += 1;
  }
  toString = () => `fault(${this.name})`;
}

class Restart implements ModelCommand {
  constructor(readonly crashAt: string | null) {}
  check = (m: Readonly<Model>) => m.restarts < MAX_RESTARTS;
  async run(m: Model, w: ModelWorld): Promise<void> {
    await w.killAndRestart(this.crashAt);
    m.restarts += 1;
  }
  toString = () => `sigkillApply(${this.crashAt === null ? "now" : `then crash at ${this.crashAt}`})`;
}

/** Let the system run for a while (the interleavings need time between commands, not only their order). */
class Pause implements ModelCommand {
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
class GrantThenFlip implements ModelCommand {
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

const CRASH_POINTS = ["after_claim", "after_submitting", "after_fill", "before_result"] as const;

/**
 * A run's command sequence: 10-18 commands drawn with weights that favour proposals and permits, so most
 * plans reach the venue. Commands whose precondition does not hold when their turn comes are skipped.
 */
export function modelCommands(): fc.Arbitrary<ModelCommand[]> {
  const propose = fc
    .tuple(
      fc.constantFrom(...MODEL_SYMBOLS),
      fc.constantFrom(...ACTIONS),
      // Stops below the mark (100) are valid for a long; 101 is through the mark.
      fc.constantFrom(90, 92, 95, 97, 101),
    )
    .map(([s, a, p]): ModelCommand => new Propose(s, a, p));
  const command = fc.oneof(
    { arbitrary: propose, weight: 6 },
    {
      arbitrary: fc
        .tuple(fc.nat(9), fc.option(fc.nat(11), { nil: null, freq: 2 }))
        .map(([k, f]): ModelCommand => new Grant(k, true, f)),
      weight: 6,
    },
    { arbitrary: fc.nat(9).map((k): ModelCommand => new Grant(k, false)), weight: 1 },
    { arbitrary: fc.boolean().map((on): ModelCommand => new KillSwitch(on)), weight: 1 },
    {
      arbitrary: fc
        .tuple(fc.nat(9), fc.integer({ min: 0, max: 400 }), fc.boolean(), fc.boolean())
        .map(
          ([k, ms, kill, slow]): ModelCommand =>
            new GrantThenFlip(
              new Grant(k, true),
              ms,
              kill ? new KillSwitch(true) : new TradingState(true),
              slow,
            ),
        ),
      weight: 3,
    },
    { arbitrary: fc.boolean().map((h): ModelCommand => new TradingState(h)), weight: 1 },
    { arbitrary: fc.constantFrom(...Object.keys(FAULTS)).map((f): ModelCommand => new Fault(f)), weight: 2 },
    {
      arbitrary: fc
        .option(fc.constantFrom(...CRASH_POINTS), { nil: null })
        .map((p): ModelCommand => new Restart(p)),
      weight: 1,
    },
    { arbitrary: fc.integer({ min: 50, max: 600 }).map((ms): ModelCommand => new Pause(ms)), weight: 2 },
  );
  return fc.array(command, { minLength: 10, maxLength: 18 });
}

export function initialModel(): Model {
  return { waiting: [], killOn: false, halted: false, restarts: 0, proposals: 0, faults: 0 };
}
