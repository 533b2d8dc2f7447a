import { Decimal } from "decimal.js";
import fc from "fast-check";
import {
  ACTIONS,
  type Action,
  CLOSE_SHARE,
  Fault,
  firstOrderId,
  Grant,
  GrantThenFlip,
  KillSwitch,
  MAX_PROPOSALS,
  MAX_RESTARTS,
  type Model,
  type ModelCommand,
  Pause,
  Propose,
  Restart,
  TradingState,
  writePermits,
} from "./model-commands.js";
import { FAULTS, ORDER_FAULTS, STOP_FAULTS } from "./model-faults.js";
import { MODEL_SYMBOLS, type ModelSymbol, type ModelWorld } from "./model-world.js";

/**
 * Commands that steer a run into the paths the funnel's promises are about: a plan granted at once with a
 * fault armed for its own first request, a stop replaced while the venue refuses the replacement, an order
 * already at the venue for a plan whose claim Redis lost, a crash hook armed right before a plan. Plus the
 * generator of a run's command sequence.
 */

/** Propose a plan and grant it at once, with a fault armed for its first request (or none). */
class ProposeGrant implements ModelCommand {
  readonly grant: Grant;
  constructor(
    readonly propose: Propose,
    fault: number | null,
  ) {
    this.grant = new Grant(0, true, fault);
  }
  check = (m: Readonly<Model>) => this.propose.check(m);
  async run(m: Model, w: ModelWorld): Promise<void> {
    if (this.grant.fault !== null) {
      // The granted plans of the symbol first (bounded): a permit sized while one of them is still filling
      // would be refused as stale before its request, and the fault would never meet it.
      const granted = w.plans.filter((p) => p.symbol === this.propose.symbol && w.permits.has(p.planId));
      await w.waitResults(
        granted.map((p) => p.planId),
        5000,
      );
    }
    await this.propose.run(m, w);
    await this.grant.grantPlan(m, w, this.propose.planId as string);
  }
  toString = () => `${this.propose} + ${this.grant.toString().replace("waiting[0]", "it")}`;
}

/**
 * Place a protective stop, wait for its result, then replace it with a fault armed for the replacement (the
 * new stop refused -2021, answered 503 or 429, the cancel of the old one answered 503, a slow lookup): the
 * symbol must keep a working stop whatever the venue said.
 */
class ReplaceStop implements ModelCommand {
  private readonly place: ProposeGrant;
  private readonly replace: ProposeGrant;
  constructor(symbol: ModelSymbol, first: number, second: number, fault: number) {
    this.place = new ProposeGrant(new Propose(symbol, "UPDATE_SL", first), null);
    this.replace = new ProposeGrant(new Propose(symbol, "UPDATE_SL", second), fault);
  }
  check = (m: Readonly<Model>) => m.proposals + 2 <= MAX_PROPOSALS;
  async run(m: Model, w: ModelWorld): Promise<void> {
    await this.place.run(m, w);
    await w.waitResults([this.place.propose.planId as string], 10_000);
    await this.replace.run(m, w);
  }
  toString = () => `replaceStop(${this.place}; then ${this.replace})`;
}

/**
 * A plan whose close is already at the venue: an earlier incarnation sent it, then Redis lost the claim (a
 * failover's lost tail, a restore from backup). The order is placed on the account with the plan's client id,
 * filled against the position the permits are then sized from; the Apply Layer must adopt it, never send it
 * again. Runs only while nothing else can touch the symbol (earlier plans of the symbol have their results,
 * the controls are open, no crash hook is armed), and waits for the plan's result.
 */
class LostClaim implements ModelCommand {
  constructor(
    readonly symbol: ModelSymbol,
    readonly action: Exclude<Action, "UPDATE_SL">,
  ) {}
  private placed: string | null = null;
  check = (m: Readonly<Model>) => m.proposals < MAX_PROPOSALS && !m.killOn && !m.halted && !m.crashArmed;
  async run(m: Model, w: ModelWorld): Promise<void> {
    const earlier = w.plans.filter((p) => p.symbol === this.symbol).map((p) => p.planId);
    const quiet = await w.waitResults(earlier, 10_000);
    const propose = new Propose(this.symbol, this.action, 0);
    await propose.run(m, w);
    const planId = propose.planId as string;
    m.waiting = m.waiting.filter((id) => id !== planId);
    const sizedAtMs = Date.now();
    const amt = w.fake.position(this.symbol)?.positionAmt ?? "0";
    const qty = new Decimal(amt)
      .abs()
      .mul(CLOSE_SHARE[this.action] ?? "1")
      .toDecimalPlaces(3, Decimal.ROUND_DOWN);
    if (quiet && qty.gt(0)) {
      const id = firstOrderId(planId, this.action);
      w.fake.placeOrder({
        symbol: this.symbol,
        side: new Decimal(amt).gt(0) ? "SELL" : "BUY",
        type: "MARKET",
        quantity: qty.toFixed(),
        reduceOnly: "true",
        newClientOrderId: id,
        newOrderRespType: "RESULT",
      });
      this.placed = id;
    }
    await writePermits(w, planId, this.symbol, this.action, true, amt, sizedAtMs);
    await w.waitResults([planId], 10_000);
  }
  toString = () =>
    `lostClaim(${this.symbol}, ${this.action}${this.placed === null ? ", nothing placed" : `, ${this.placed} already filled`})`;
}

/** Arm a crash hook (SIGKILL at that point of the next plan, then a restart), then propose and grant a close. */
class CrashThenGrant implements ModelCommand {
  constructor(
    readonly restart: Restart,
    readonly plan: ProposeGrant,
  ) {}
  check = (m: Readonly<Model>) => m.restarts < MAX_RESTARTS && this.plan.check(m);
  async run(m: Model, w: ModelWorld): Promise<void> {
    await this.restart.run(m, w);
    await this.plan.run(m, w);
  }
  toString = () => `${this.restart}, ${this.plan}`;
}

const CRASH_POINTS = ["after_claim", "after_submitting", "after_fill", "before_result"] as const;
/** Stops below the mark (100) are valid for a long; 101 is through the mark. */
const STOP_PRICES = [90, 92, 95, 97, 101] as const;
const CLOSES = ACTIONS.filter((a): a is Exclude<Action, "UPDATE_SL"> => a !== "UPDATE_SL");

/**
 * A run's command sequence: 10-16 commands, weighted so most plans reach the venue and most of those meet a
 * fault armed for their own requests. Commands whose precondition does not hold when their turn comes are
 * skipped.
 */
export function modelCommands(): fc.Arbitrary<ModelCommand[]> {
  const propose = fc
    .tuple(fc.constantFrom(...MODEL_SYMBOLS), fc.constantFrom(...ACTIONS), fc.constantFrom(...STOP_PRICES))
    .map(([s, a, p]) => new Propose(s, a, p));
  const faultPick = fc.nat(Math.max(ORDER_FAULTS.length, STOP_FAULTS.length) * 4);
  const proposeGrant = fc
    .tuple(propose, fc.option(faultPick, { nil: null, freq: 5 }))
    .map(([p, f]) => new ProposeGrant(p, f));
  const command = fc.oneof(
    { arbitrary: propose.map((p): ModelCommand => p), weight: 3 },
    { arbitrary: proposeGrant.map((c): ModelCommand => c), weight: 7 },
    {
      arbitrary: fc
        .tuple(fc.nat(9), fc.option(faultPick, { nil: null, freq: 2 }))
        .map(([k, f]): ModelCommand => new Grant(k, true, f)),
      weight: 3,
    },
    { arbitrary: fc.nat(9).map((k): ModelCommand => new Grant(k, false)), weight: 1 },
    {
      arbitrary: fc
        .tuple(
          fc.constantFrom(...MODEL_SYMBOLS),
          fc.constantFrom(90, 92, 95),
          fc.constantFrom(92, 95, 97),
          fc.nat(STOP_FAULTS.length * 4),
        )
        .map(([s, a, b, f]): ModelCommand => new ReplaceStop(s, a, b, f)),
      weight: 2,
    },
    {
      arbitrary: fc
        .tuple(fc.constantFrom("BTCUSDT", "ETHUSDT") as fc.Arbitrary<ModelSymbol>, fc.constantFrom(...CLOSES))
        .map(([s, a]): ModelCommand => new LostClaim(s, a)),
      weight: 1,
    },
    {
      arbitrary: fc
        .tuple(
          fc.constantFrom(...CRASH_POINTS),
          fc.constantFrom(...MODEL_SYMBOLS),
          fc.constantFrom(...CLOSES),
          fc.option(faultPick, { nil: null, freq: 2 }),
        )
        .map(
          ([c, s, a, f]): ModelCommand =>
            new CrashThenGrant(new Restart(c), new ProposeGrant(new Propose(s, a, 0), f)),
        ),
      weight: 1,
    },
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
      weight: 2,
    },
    { arbitrary: fc.boolean().map((h): ModelCommand => new TradingState(h)), weight: 1 },
    { arbitrary: fc.constantFrom(...Object.keys(FAULTS)).map((f): ModelCommand => new Fault(f)), weight: 1 },
    {
      arbitrary: fc
        .option(fc.constantFrom(...CRASH_POINTS), { nil: null })
        .map((p): ModelCommand => new Restart(p)),
      weight: 1,
    },
    { arbitrary: fc.integer({ min: 50, max: 600 }).map((ms): ModelCommand => new Pause(ms)), weight: 2 },
  );
  return fc.array(command, { minLength: 10, maxLength: 16 });
}
