import fc from "fast-check";

/**
 * fast-check generators of hostile input for every stream and hash the services read: wrong types, missing
 * fields, 1 MB values, unicode, negative / NaN / infinite numbers, unknown actions and decisions, and
 * millisecond instead of second timestamps, mixed with valid values so entries get past the first check.
 */

export type FieldMap = Record<string, string>;

/** One megabyte: a value far beyond any field limit. */
export const HUGE = "x".repeat(1024 * 1024);
/** A minute no generated entry uses (the millisecond/second timestamp check counts there alone). */
export const QUIET_MINUTE_SEC = Date.parse("2026-01-01T00:07:00Z") / 1000;

const NOW_SEC = 1_767_225_600; // 2026-01-01T00:00:00Z

const junkNumber = fc.constantFrom(
  "NaN",
  "nan",
  "-NaN",
  "Infinity",
  "-inf",
  "1e309",
  "-1e309",
  "1e-400",
  "0x1F",
  "1_000",
  "12abc",
  "--1",
  "+",
  ".",
  "1.2.3",
  "  0.5  ",
  "١٢٣",
  "null",
  "None",
  "True",
  "[]",
  "{}",
  '{"a":1}',
);
const plainNumber = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.integer().map(String),
  fc.constantFrom("0", "-0", "0.31", "-0.31", "0.95", "-1", "1e300", "1e-05", "41000.0"),
);
const timestamp = fc.oneof(
  fc.constantFrom(
    String(NOW_SEC),
    `${NOW_SEC}.5`,
    String(NOW_SEC * 1000), // milliseconds
    String(NOW_SEC * 1000 + 250),
    String(NOW_SEC * 1_000_000), // microseconds
    "-1",
    "0",
    "1e12",
    "2026-01-01T00:00:00Z",
    "yesterday",
  ),
  fc.integer({ min: -2_000_000_000, max: 4_000_000_000 }).map(String),
);
const unicode = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "币安USDT",
    "ΒΤΣUSDT",
    "BTC\u0000USDT",
    "BTC\nUSDT",
    "🚀🚀",
    "\u202eTDSUCTB",
    "é",
    "ｂｔｃ",
  ),
);
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: unicode },
  { weight: 2, arbitrary: junkNumber },
  { weight: 1, arbitrary: fc.constant("") },
  { weight: 1, arbitrary: fc.constant(HUGE) },
  { weight: 1, arbitrary: fc.string({ minLength: 65, maxLength: 300 }) },
);
const number = fc.oneof(
  { weight: 5, arbitrary: plainNumber },
  { weight: 3, arbitrary: junkNumber },
  { weight: 1, arbitrary: text },
);
const planIdLike = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[0-9a-f]{16}$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9A-F]{16}$/) },
  { weight: 1, arbitrary: text },
);
const actions = fc.oneof(
  fc.constantFrom("FULL_CLOSE_PROPOSED", "PARTIAL_75", "PARTIAL_50", "UPDATE_SL", "HOLD"),
  fc.constantFrom("OPEN_LONG", "full_close_proposed", "PARTIAL_100", "CLOSE", "DROP TABLE", "UPDATE_SL "),
  text,
);
const decisions = fc.oneof(
  fc.constantFrom("EXECUTE", "SKIP", "BLOCKED", "ERROR"),
  fc.constantFrom("EXECUTED", "exec", "FAILED", "RECONCILE_CLOSE", "MAYBE", "execute", ""),
  text,
);
const bool = fc.oneof(fc.constantFrom("True", "False", "true", "1", "0", "yes", ""), text);
const json = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc.constantFrom("[", "{", "[1,2", '{"error":"insufficient margin"}', "{'error': 'py dict'}", "null"),
  text,
);

/** An entry with each known field present with probability ~2/3 (valid-ish, hostile or missing), plus junk fields. */
function entry(known: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<FieldMap> {
  const optional = Object.fromEntries(
    Object.entries(known).map(([k, arb]) => [k, fc.option(arb, { freq: 3, nil: undefined })]),
  );
  return fc
    .tuple(
      fc.record(optional),
      fc.dictionary(fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), unicode), text, { maxKeys: 2 }),
    )
    .map(([k, extra]) => {
      const out: FieldMap = {};
      for (const [name, value] of Object.entries({ ...extra, ...k })) {
        if (typeof value === "string" && name !== "") out[name] = value;
      }
      if (Object.keys(out).length === 0) out.junk = "";
      return out;
    });
}

/** A harvest proposal (stream entry or hash fields). `symbols` are real, allowlisted targets. */
function proposalRandom(symbols: readonly string[]): fc.Arbitrary<FieldMap> {
  const symbol = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...symbols) },
    { weight: 2, arbitrary: unicode },
  );
  return entry({
    symbol,
    harvest_action: actions,
    action: actions,
    calibrated: bool,
    kill_score: number,
    k_regime_flip: number,
    k_sigma_spike: number,
    k_ts_drop: number,
    k_age_penalty: number,
    new_sl_proposed: number,
    R_net: number,
    last_update_epoch: timestamp,
    computed_at_utc: fc.oneof(
      timestamp,
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      text,
    ),
    reason_codes: fc.oneof(fc.constantFrom("", "a,b", "kill_score_high", ",,,"), text),
  });
}

/** An apply.plan entry (what P3.3 and the Governor read). */
function planRandom(symbols: readonly string[]): fc.Arbitrary<FieldMap> {
  const symbol = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...symbols) },
    { weight: 2, arbitrary: unicode },
  );
  return entry({
    plan_id: planIdLike,
    symbol,
    action: actions,
    kill_score: number,
    k_regime_flip: number,
    k_sigma_spike: number,
    k_ts_drop: number,
    k_age_penalty: number,
    new_sl_proposed: number,
    R_net: number,
    decision: decisions,
    reason_codes: fc.oneof(fc.constantFrom("", "kill_score_warning_close_ok"), text),
    steps: json,
    close_qty: number,
    price: number,
    timestamp,
    source: fc.oneof(fc.constant("apply_layer"), text),
    reduceOnly: bool,
    v: fc.oneof(fc.constant("1"), text),
  });
}

/** An apply.result entry (what P3.5 and the P3.3 ledger read), from this Apply Layer or other producers. */
function resultRandom(symbols: readonly string[]): fc.Arbitrary<FieldMap> {
  const symbol = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...symbols) },
    { weight: 2, arbitrary: unicode },
  );
  return entry({
    plan_id: planIdLike,
    symbol,
    decision: decisions,
    executed: bool,
    would_execute: bool,
    reason: fc.oneof(
      fc.constantFrom(
        "none",
        "exchange_rejected",
        "permit_timeout_or_missing:missing_p33",
        "p33_permit_denied",
      ),
      fc.constantFrom("Error: margin is insufficient", "governor_blocked: manual", "REASON WITH SPACES"),
      text,
    ),
    error: text,
    detail: text,
    details: json,
    steps_results: json,
    timestamp,
    order_id: fc.oneof(fc.nat().map(String), text),
    client_order_id: text,
    side: fc.oneof(fc.constantFrom("BUY", "SELL", "buy", "LONG"), text),
    executed_qty: number,
    avg_price: number,
    source: fc.oneof(fc.constant("apply_layer"), text),
    v: fc.oneof(fc.constant("1"), text),
  });
}

const unit = fc.double({ min: 0, max: 1, noNaN: true }).map((n) => String(Math.round(n * 1e6) / 1e6));
const qty = fc.integer({ min: 1, max: 100_000 }).map((n) => (n / 1000).toFixed(3));
const isoSecond = fc
  .integer({ min: NOW_SEC - 86_400 * 30, max: NOW_SEC + 86_400 * 30 })
  .map((t) => new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"));
const validAction = fc.constantFrom("FULL_CLOSE_PROPOSED", "PARTIAL_75", "PARTIAL_50", "UPDATE_SL", "HOLD");

/** A proposal that decodes, aimed at `symbols`. */
function proposalValid(symbols: readonly string[]): fc.Arbitrary<FieldMap> {
  return fc.record({
    symbol: fc.constantFrom(...symbols),
    harvest_action: validAction,
    kill_score: unit,
    k_regime_flip: unit,
    k_sigma_spike: unit,
    k_ts_drop: unit,
    k_age_penalty: unit,
    new_sl_proposed: fc.constantFrom("", "95.5", "0.0"),
    R_net: unit,
    last_update_epoch: fc.constant(String(NOW_SEC)),
    computed_at_utc: isoSecond,
    reason_codes: fc.constantFrom("", "regime_flip,sigma_spike"),
  });
}

function planValid(symbols: readonly string[]): fc.Arbitrary<FieldMap> {
  return fc.record({
    plan_id: fc.stringMatching(/^[0-9a-f]{16}$/),
    symbol: fc.constantFrom(...symbols),
    action: validAction,
    kill_score: unit,
    k_regime_flip: unit,
    k_sigma_spike: unit,
    k_ts_drop: unit,
    k_age_penalty: unit,
    new_sl_proposed: fc.constant(""),
    R_net: unit,
    decision: fc.constantFrom("EXECUTE", "EXECUTE", "SKIP", "BLOCKED", "ERROR"),
    reason_codes: fc.constant(""),
    steps: fc.constant("[]"),
    close_qty: qty,
    price: fc.constant("100"),
    timestamp: fc.constant(String(NOW_SEC)),
    reduceOnly: fc.constant("true"),
    source: fc.constant("apply_layer"),
    v: fc.constant("1"),
  });
}

function resultValid(symbols: readonly string[]): fc.Arbitrary<FieldMap> {
  return fc
    .record({
      plan_id: fc.stringMatching(/^[0-9a-f]{16}$/),
      symbol: fc.constantFrom(...symbols),
      decision: fc.constantFrom("EXECUTE", "SKIP", "BLOCKED", "ERROR"),
      executed: fc.constantFrom("True", "False"),
      reason: fc.constantFrom("none", "exchange_rejected", "p33_permit_denied", "action_hold"),
      detail: fc.string({ maxLength: 20 }),
      steps_results: fc.constant("[]"),
      timestamp: fc.constantFrom(String(NOW_SEC), String(NOW_SEC * 1000)),
      order_id: fc.nat().map(String),
      side: fc.constant("SELL"),
      executed_qty: qty,
      avg_price: fc.constant("100"),
      source: fc.constant("apply_layer"),
      v: fc.constant("1"),
    })
    .map((f) => ({
      ...f,
      would_execute: f.executed,
      error: f.reason === "none" ? "" : f.reason,
      client_order_id: `qp3-c-${f.plan_id}`,
    }));
}

/** A valid entry with 0-2 fields deleted or replaced by hostile values (unknown actions, ms timestamps...). */
function mutated(base: fc.Arbitrary<FieldMap>, hostile: fc.Arbitrary<string>): fc.Arbitrary<FieldMap> {
  return fc
    .tuple(base, fc.array(fc.tuple(fc.nat(), fc.boolean(), hostile), { maxLength: 2 }))
    .map(([entry, edits]) => {
      const out = { ...entry };
      const names = Object.keys(out);
      for (const [i, drop, value] of edits) {
        const name = names[i % names.length] as string;
        if (drop) delete out[name];
        else out[name] = value;
      }
      if (Object.keys(out).length === 0) out.junk = "";
      return out;
    });
}

const hostileValue = fc.oneof(text, junkNumber, timestamp, actions, decisions);

/** Harvest proposal fields: random junk (1/3) or a valid proposal with a few hostile edits (2/3). */
export function proposalArb(symbols: readonly string[]): fc.Arbitrary<FieldMap> {
  return fc.oneof(
    { weight: 1, arbitrary: proposalRandom(symbols) },
    { weight: 2, arbitrary: mutated(proposalValid(symbols), hostileValue) },
  );
}

/** apply.plan fields: random junk (1/3) or a valid plan with a few hostile edits (2/3). */
export function planArb(symbols: readonly string[]): fc.Arbitrary<FieldMap> {
  return fc.oneof(
    { weight: 1, arbitrary: planRandom(symbols) },
    { weight: 2, arbitrary: mutated(planValid(symbols), hostileValue) },
  );
}

/** apply.result fields: random junk (1/3) or a valid result with a few hostile edits (2/3). */
export function resultArb(symbols: readonly string[]): fc.Arbitrary<FieldMap> {
  return fc.oneof(
    { weight: 1, arbitrary: resultRandom(symbols) },
    { weight: 2, arbitrary: mutated(resultValid(symbols), hostileValue) },
  );
}

/** `n` seeded samples. */
export function samples<T>(arb: fc.Arbitrary<T>, n: number, seed: number): T[] {
  return fc.sample(arb, { numRuns: n, seed });
}

/** Whether an entry carries a value over 64 KiB (what "1 MB values" means below). */
export function hasHugeValue(f: FieldMap): boolean {
  return Object.values(f).some((v) => v.length > 65_536);
}
