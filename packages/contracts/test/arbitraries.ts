import fc from "fast-check";
import {
  ALERT_SEVERITIES,
  ALL_KNOWN_REASONS,
  APPLY_MODES,
  APPLY_REASONS,
  type ApplyPlan,
  type ApplyResult,
  DECISIONS,
  type DeadLetter,
  EXCHANGE_VENUES,
  EXEC_STATES,
  type ExecRecord,
  type GovernorBlock,
  type GovernorPermit,
  type HarvestProposal,
  type JsonValue,
  ORDER_SIDES,
  P33_DENY_REASONS,
  type P33Permit,
  P35_WINDOWS,
  type P35Alert,
  type PaperPosition,
  PERMIT_POSITION_SIDES,
  POSITION_SIDES,
  type PositionLedger,
  type PositionSnapshot,
  type PositionView,
} from "../src/index.js";

/** Finite doubles, including -0, subnormals and extremes. */
export const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
export const epochSec = fc.oneof(
  fc.integer({ min: 1_600_000_000, max: 2_000_000_000 }),
  fc.double({ min: 0, max: 4e9, noNaN: true }),
);
export const symbol = fc.oneof(
  fc.stringMatching(/^[A-Z0-9_]{1,40}$/),
  fc.constantFrom("BTCUSDT", "币安人生USDT"),
);
export const planId = fc.stringMatching(/^[0-9a-f]{16}$/);
export const decimal = fc.stringMatching(/^-?\d{1,14}(\.\d{1,12})?$/);
export const unsignedDecimal = fc.stringMatching(/^\d{1,10}(\.\d{1,10})?$/);
export const clientOrderId = fc.stringMatching(/^[.A-Z:/a-z0-9_-]{1,36}$/);
export const text = (min: number, max: number) =>
  fc.oneof(
    fc.string({ minLength: min, maxLength: max }),
    fc.string({ unit: "binary", minLength: min, maxLength: max / 2 }),
  );
/** JSON values as they come back from JSON.parse (no -0). */
export const json: fc.Arbitrary<JsonValue> = fc
  .jsonValue({ maxDepth: 3 })
  .map((v) => JSON.parse(JSON.stringify(v)) as JsonValue);
export const jsonObject = fc.dictionary(fc.string(), json, { maxKeys: 5 });
export const codeList = fc.array(fc.stringMatching(/^[a-z0-9_:]{1,20}$/), { maxLength: 5 });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

export const harvestProposal: fc.Arbitrary<HarvestProposal> = fc.record({
  symbol,
  action: fc.oneof(fc.constantFrom("FULL_CLOSE_PROPOSED", "PARTIAL_50", "HOLD"), text(1, 64)),
  calibrated: fc.boolean(),
  killScore: finite,
  kRegimeFlip: finite,
  kSigmaSpike: finite,
  kTsDrop: finite,
  kAgePenalty: finite,
  newSlProposed: fc.option(finite, { nil: null }),
  rNet: finite,
  lastUpdateEpoch: fc.option(epochSec, { nil: null }),
  computedAtUtc: text(1, 64),
  reasonCodes: fc.array(fc.stringMatching(/^[A-Za-z0-9_]([A-Za-z0-9_ .-]*[A-Za-z0-9_])?$/), { maxLength: 4 }),
});

export const applyPlan: fc.Arbitrary<ApplyPlan> = fc.record({
  planId,
  symbol,
  action: text(1, 64),
  killScore: finite,
  kRegimeFlip: finite,
  kSigmaSpike: finite,
  kTsDrop: finite,
  kAgePenalty: finite,
  newSlProposed: fc.option(finite, { nil: null }),
  rNet: finite,
  decision: fc.constantFrom(...DECISIONS),
  reasonCodes: codeList,
  steps: fc.array(json, { maxLength: 4 }),
  closeQty: fc.option(unsignedDecimal, { nil: null }),
  price: fc.option(unsignedDecimal, { nil: null }),
  timestamp: epochSec,
  reduceOnly: fc.boolean(),
});

export const applyResult: fc.Arbitrary<ApplyResult> = fc.record(
  {
    planId,
    symbol,
    decision: fc.constantFrom(...DECISIONS),
    executed: fc.boolean(),
    wouldExecute: fc.boolean(),
    reason: fc.constantFrom(...APPLY_REASONS),
    detail: text(0, 200),
    stepsResults: fc.array(json, { maxLength: 4 }),
    timestamp: epochSec,
    orderId: fc.stringMatching(/^[0-9]{1,19}$/),
    clientOrderId,
    side: fc.constantFrom(...ORDER_SIDES),
    executedQty: unsignedDecimal,
    avgPrice: unsignedDecimal,
    permitWaitMs: fc.double({ min: 0, max: 1e6, noNaN: true }),
    mode: fc.constantFrom(...APPLY_MODES),
  },
  {
    requiredKeys: [
      "planId",
      "symbol",
      "decision",
      "executed",
      "wouldExecute",
      "reason",
      "detail",
      "stepsResults",
      "timestamp",
    ],
  },
);

export const governorPermit: fc.Arbitrary<GovernorPermit> = fc.record({
  granted: fc.boolean(),
  symbol,
  decision: fc.constantFrom("EXECUTE", "BLOCK"),
  computedQty: fc.option(unsignedDecimal, { nil: null }),
  computedNotional: fc.option(unsignedDecimal, { nil: null }),
  createdAt: epochSec,
  consumed: fc.boolean(),
});

export const governorBlock: fc.Arbitrary<GovernorBlock> = fc.record({
  reason: text(0, 200),
  timestamp: fc.option(epochSec, { nil: null }),
  symbol: text(0, 32),
});

export const p33Permit: fc.Arbitrary<P33Permit> = fc.oneof(
  fc.record({
    allow: fc.constant(true as const),
    symbol,
    safeQty: unsignedDecimal,
    exchangePositionAmt: decimal,
    ledgerAmt: fc.option(decimal, { nil: null }),
    createdAt: epochSec,
    reason: fc.constant("sanity_checks_passed" as const),
    venue: fc.option(fc.constantFrom(...EXCHANGE_VENUES), { nil: null }),
    positionSide: fc.constantFrom(...PERMIT_POSITION_SIDES),
    ledgerResultPlanId: fc.option(fc.stringMatching(/^[0-9a-f]{16}$/), { nil: null }),
    snapshotTs: fc.option(epochSec, { nil: null }),
  }),
  fc.record({
    allow: fc.constant(false as const),
    symbol,
    reason: fc.constantFrom(...P33_DENY_REASONS),
    context: jsonObject,
    createdAt: epochSec,
  }),
);

export const positionSnapshot: fc.Arbitrary<PositionSnapshot> = fc.record({
  positionAmt: decimal,
  side: fc.constantFrom(...POSITION_SIDES),
  entryPrice: unsignedDecimal,
  markPrice: unsignedDecimal,
  unrealizedPnl: decimal,
  leverage: unsignedDecimal,
  tsEpoch: epochSec,
  source: fc.constantFrom("binance_testnet", "paper", "binance"),
});

export const positionLedger: fc.Arbitrary<PositionLedger> = fc.record({
  lastKnownAmt: decimal,
  lastOrderId: opt(fc.stringMatching(/^[0-9]{1,19}$/)),
  lastResultPlanId: opt(planId),
  lastExecutedQty: opt(unsignedDecimal),
  lastSide: opt(fc.constantFrom(...ORDER_SIDES)),
  updatedAt: epochSec,
  source: fc.constantFrom("p33", "operator"),
});

export const positionView: fc.Arbitrary<PositionView> = fc.record({
  exchangeAmt: decimal,
  ledgerAmount: decimal,
  mismatchSince: fc.option(epochSec, { nil: null }),
  snapshotTs: epochSec,
});

export const paperPosition: fc.Arbitrary<PaperPosition> = fc.record({
  positionAmt: decimal,
  entryPrice: unsignedDecimal,
  markPrice: unsignedDecimal,
});

export const execRecord: fc.Arbitrary<ExecRecord> = fc.record(
  {
    state: fc.constantFrom(...EXEC_STATES),
    planId,
    symbol,
    createdAt: epochSec,
    updatedAt: epochSec,
    clientOrderId,
    side: fc.constantFrom(...ORDER_SIDES),
    qty: unsignedDecimal,
    orderId: fc.stringMatching(/^[0-9]{1,19}$/),
    executedQty: unsignedDecimal,
    avgPrice: unsignedDecimal,
    detail: text(1, 200),
    resultPublished: fc.boolean(),
  },
  { requiredKeys: ["state", "planId", "symbol", "createdAt", "resultPublished"] },
);

export const p35Alert: fc.Arbitrary<P35Alert> = fc
  .record({
    window: fc.constantFrom(...(Object.keys(P35_WINDOWS) as (keyof typeof P35_WINDOWS)[]), "stuck" as const),
    reason: fc.constantFrom(...ALL_KNOWN_REASONS),
    score: fc.nat({ max: 1_000_000 }),
    extra: fc.nat({ max: 1_000_000 }),
    timestamp: epochSec,
    severity: fc.constantFrom(...ALERT_SEVERITIES),
    symbol: symbol,
  })
  .map(({ extra, symbol: sym, ...a }) => ({
    ...a,
    total: a.score + extra,
    share: a.score + extra === 0 ? 0 : a.score / (a.score + extra),
    alertId: `p35_alert_${Math.floor(a.timestamp)}_${a.reason}`,
    ...(a.window === "stuck" ? { symbol: sym } : {}),
  }));

export const deadLetter: fc.Arbitrary<DeadLetter> = fc.record({
  stream: fc.constantFrom("quantum:stream:apply.plan", "quantum:stream:apply.result"),
  id: fc.stringMatching(/^\d{1,13}-\d{1,3}$/),
  service: fc.constantFrom("apply-layer", "position-state-brain"),
  error: text(0, 200),
  raw: fc.dictionary(text(0, 20), text(0, 50), { maxKeys: 6 }),
  truncated: fc.array(text(1, 10), { maxLength: 2 }),
  ts: epochSec,
});

/** A 1 MiB string of digits and one of text. */
export const HUGE_DIGITS = "9".repeat(1 << 20);
export const HUGE_TEXT = "x".repeat(1 << 20);

/** Hostile field values. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.constantFrom(
    "NaN",
    "-1",
    "1e309",
    "-1e309",
    "Infinity",
    "",
    "None",
    "null",
    "0x10",
    " 1",
    "1_000",
    "True",
  ),
  fc.constantFrom(HUGE_DIGITS, HUGE_TEXT, `0.${HUGE_DIGITS}`),
  fc.anything(),
);
