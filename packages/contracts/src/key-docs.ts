import { TRADING_STATES } from "./reasons.js";

/**
 * What each stream and key of keys.ts holds, who writes and who reads it: the tables contract-doc.ts renders
 * into docs/contract.md. A stream or key without an entry here fails generation.
 */

export interface StreamDoc {
  readonly writer: string;
  readonly readers: string;
  /** Entry fields; the plan, result and proposal streams take theirs from their codecs instead. */
  readonly fields?: readonly string[];
}

/** Streams by name. A stream of keys.ts without an entry here fails generation. */
export const STREAM_DOCS: Readonly<Record<string, StreamDoc>> = {
  "quantum:stream:apply.plan": {
    writer: "Apply Layer, once per plan_id",
    readers: "Governor (group `governor`), P3.3 (group `p33`)",
  },
  "quantum:stream:apply.result": {
    writer: "Apply Layer, exactly one per plan_id",
    readers: "P3.5 (group `p35_decision_intel`), P3.3 ledger (group `p33_ledger`)",
  },
  "quantum:stream:harvest.proposal": {
    writer:
      "strategy (event path; the hash is the polled path), quantumctl's close command (`source=operator`)",
    readers: "Apply Layer (group `apply`)",
  },
  "quantum:p35:alerts": {
    writer: "P3.5",
    readers: "operators, bots",
    fields: ["window", "reason", "score", "total", "share", "timestamp", "severity", "alert_id"],
  },
  "quantum:stream:deadletter": {
    writer: "any service",
    readers: "operators",
    fields: ["stream", "id", "service", "error", "raw", "truncated", "ts"],
  },
  "quantum:paper:orders": {
    writer: "paper exchange",
    readers: "operators, tests",
    fields: [
      "client_order_id",
      "symbol",
      "side",
      "type",
      "qty",
      "price",
      "reduce_only",
      "position_amt_before",
      "position_amt_after",
      "ts_ms",
    ],
  },
  "quantum:audit": {
    writer:
      "`quantumctl` (every mutating command), Apply Layer (`actor=external` for raw kill-switch / trading-state changes)",
    readers: "operators (quantumctl's audit command)",
    fields: ["actor", "command", "args", "reason", "before", "after", "ts"],
  },
};

export interface KeyDoc {
  /** The key with its placeholders, e.g. `quantum:permit:<plan_id>`. */
  readonly key: string;
  readonly type: string;
  readonly writer: string;
  readonly meaning: string;
}

/** Keys by template. A key of keys.ts without an entry here fails generation. */
export const KEY_DOCS: readonly KeyDoc[] = [
  {
    key: "quantum:harvest:proposal:<SYMBOL>",
    type: "hash",
    writer: "strategy",
    meaning:
      "The current proposal for a symbol (fields as on `harvest.proposal`); polled every `APPLY_POLL_SEC`.",
  },
  {
    key: "quantum:permit:<plan_id>",
    type: "string (JSON), TTL 60 s",
    writer: "Governor",
    meaning: "Governor permit; single use, deleted when consumed.",
  },
  {
    key: "quantum:permit:p33:<plan_id>",
    type: "string (JSON), TTL `P33_PERMIT_TTL`",
    writer: "P3.3",
    meaning: "P3.3 permit (allow or deny); single use, deleted when consumed.",
  },
  {
    key: "quantum:governor:block:<plan_id>",
    type: "string (JSON)",
    writer: "Governor",
    meaning: "A refusal: the Apply Layer stops waiting at once with `governor_blocked`.",
  },
  {
    key: "quantum:apply:exec:<plan_id>",
    type: "hash",
    writer: "Apply Layer",
    meaning:
      "Execution record: `CLAIMED → SUBMITTING → FILLED|REJECTED|UNKNOWN`; its existence means the plan can never send a second order.",
  },
  {
    key: "quantum:apply:exec:open",
    type: "sorted set",
    writer: "Apply Layer",
    meaning: "Index of execution records that are not final; recovery reads it instead of scanning keys.",
  },
  {
    key: "quantum:apply:plan_published:<plan_id>",
    type: "string",
    writer: "Apply Layer",
    meaning: "Marker that the plan was published (a plan_id is published once).",
  },
  {
    key: "quantum:apply:result_published:<plan_id>",
    type: "string",
    writer: "Apply Layer",
    meaning: "Marker that the plan's result was published (exactly one result).",
  },
  {
    key: "quantum:apply:lock:<SYMBOL>",
    type: "string, TTL",
    writer: "Apply Layer",
    meaning: "One plan in flight per symbol across instances.",
  },
  {
    key: "quantum:apply:protective_stop:<SYMBOL>",
    type: "hash",
    writer: "Apply Layer",
    meaning: "This system's protective stop order for the symbol (`UPDATE_SL`).",
  },
  {
    key: "quantum:apply:open_plans",
    type: "hash",
    writer: "Apply Layer",
    meaning:
      "EXECUTE plans whose result is not published yet (plan_id → plan JSON); resumed after a restart.",
  },
  {
    key: "quantum:apply:submitting",
    type: "sorted set",
    writer: "Apply Layer",
    meaning: "Orders past the kill-switch gate that may be on their way (plan_id → epoch ms).",
  },
  {
    key: "quantum:service:<service>:consumer:<consumer>",
    type: "string, TTL 5 s",
    writer: "every service",
    meaning:
      "Liveness of a consumer name (an instance id, renewed while alive): a second instance that finds it renewed refuses to start under the same name.",
  },
  {
    key: "quantum:global:kill_switch",
    type: "string",
    writer: "operators",
    meaning:
      "`true|1|yes|on` (any case) or any unknown value = halted; `false|0|no|off` = trading allowed. Missing: allowed in dry_run, paper and testnet, **halted in production**.",
  },
  {
    key: "quantum:global:kill_switch:reason",
    type: "string",
    writer: "operators",
    meaning: "Why the kill switch was last changed.",
  },
  {
    key: "quantum:global:kill_switch:by",
    type: "string",
    writer: "operators",
    meaning: "Who last changed the kill switch.",
  },
  {
    key: "quantum:global:kill_switch:at",
    type: "string",
    writer: "operators",
    meaning: "When the kill switch was last changed.",
  },
  {
    key: "quantum:global:trading_state",
    type: "string",
    writer: "operators",
    meaning: `${TRADING_STATES.join(" | ")}; missing = ACTIVE, an unknown value = HALTED (acts as the kill switch).`,
  },
  {
    key: "quantum:global:trading_state:reason",
    type: "string",
    writer: "operators",
    meaning: "Why the trading state was last changed.",
  },
  {
    key: "quantum:global:trading_state:by",
    type: "string",
    writer: "operators, Apply Layer",
    meaning: "Who last changed the trading state (`external` for a change made outside quantumctl).",
  },
  {
    key: "quantum:global:trading_state:at",
    type: "string",
    writer: "operators, Apply Layer",
    meaning: "When the trading state was last changed.",
  },
  {
    key: "quantum:audit:last_seen",
    type: "hash",
    writer: "quantumctl, Apply Layer",
    meaning:
      "The kill-switch and trading-state values last recorded in `quantum:audit`; a different current value is a change made outside quantumctl, recorded once as `actor=external`.",
  },
  {
    key: "quantum:reconcile:hold:<SYMBOL>",
    type: "string",
    writer: "operators",
    meaning: "Any non-empty value: P3.3 denies the symbol with `reconcile_hold_active`.",
  },
  {
    key: "quantum:cooldown:last_exec_ts:<SYMBOL>",
    type: "string",
    writer: "Apply Layer",
    meaning: "Epoch ms of the symbol's last fill (P3.3 cooldown; permits created before it are stale).",
  },
  {
    key: "quantum:position:snapshot:<SYMBOL>",
    type: "hash",
    writer: "P3.3",
    meaning:
      "Exchange position: `position_amt` (signed), `side` (LONG|SHORT|NONE), `entry_price`, `mark_price`, `unrealized_pnl`, `leverage`, `ts_epoch`, `source`.",
  },
  {
    key: "quantum:position:ledger:<SYMBOL>",
    type: "hash",
    writer: "P3.3 (operators: `quantumctl ledger`)",
    meaning:
      "What this system believes: `last_known_amt` (signed), `last_order_id`, `last_result_plan_id`, `last_executed_qty`, `last_side`, `updated_at`, `source`.",
  },
  {
    key: "quantum:position:<SYMBOL>",
    type: "hash",
    writer: "P3.3",
    meaning: "Operator view: `exchange_amt`, `ledger_amount`, `mismatch_since`, `snapshot_ts`.",
  },
  {
    key: "quantum:p33:ledger:applied:<SYMBOL>",
    type: "sorted set",
    writer: "P3.3",
    meaning: "apply.result ids already applied to the ledger (each result is applied once).",
  },
  {
    key: "quantum:paper:position:<SYMBOL>",
    type: "hash",
    writer: "paper exchange",
    meaning: "Paper position: `position_amt`, `entry_price`, `mark_price`.",
  },
  {
    key: "quantum:paper:order:<client_order_id>",
    type: "hash",
    writer: "paper exchange",
    meaning: "A paper order by client order id.",
  },
  {
    key: "quantum:paper:order_seq",
    type: "string (counter)",
    writer: "paper exchange",
    meaning: "Paper order id sequence.",
  },
  {
    key: "quantum:p35:bucket:<YYYYMMDDHHMM>",
    type: "hash, TTL 48 h",
    writer: "P3.5",
    meaning: "Counts of one UTC minute: `decision:<D>`, `reason:<R>`, `symbol_reason:<SYMBOL>:<R>`.",
  },
  {
    key: "quantum:p35:decision:counts:<window>",
    type: "hash, TTL 24 h",
    writer: "P3.5",
    meaning: "Decision → count over the window (`1m`, `5m`, `15m`, `1h`).",
  },
  {
    key: "quantum:p35:reason:top:<window>",
    type: "sorted set, TTL 24 h",
    writer: "P3.5",
    meaning: "Top 50 reasons over the window.",
  },
  {
    key: "quantum:p35:unknown_decision:top:5m",
    type: "sorted set",
    writer: "P3.5",
    meaning: "Decisions outside EXECUTE|SKIP|BLOCKED|ERROR seen in the last 5 minutes.",
  },
  {
    key: "quantum:p35:symbol:decision:counts:<window>",
    type: "hash, TTL 24 h",
    writer: "P3.5",
    meaning:
      "Per-symbol decision mix of the `15m` and `1h` windows (`<SYMBOL>:<DECISION>` → count); only symbols seen in the window, replaced with the other windows.",
  },
  {
    key: "quantum:p35:symbol:reason:counts:<window>",
    type: "hash, TTL 24 h",
    writer: "P3.5",
    meaning: "Per-symbol reason counts of the `15m` and `1h` windows (`<SYMBOL>:<reason>` → count).",
  },
  {
    key: "quantum:p35:alert:cooldown:stuck:<SYMBOL>",
    type: "string, TTL `P35_ALERT_COOLDOWN`",
    writer: "P3.5",
    meaning: "At most one stuck alert per symbol per cooldown.",
  },
  {
    key: "quantum:p35:day:<YYYYMMDD>",
    type: "hash, kept `P35_DAY_RETENTION_DAYS`",
    writer: "P3.5",
    meaning:
      "Daily rollup of the day's buckets (decision, reason and per-symbol counts), written exactly once per UTC day; `quantumctl trend` reads it.",
  },
  {
    key: "quantum:p35:status",
    type: "hash",
    writer: "P3.5",
    meaning:
      "`last_id`, `last_ts`, `processed_total`, `pending`, `lag`, `consumer_name`, `service_start_ts`.",
  },
  {
    key: "quantum:p35:alert:cooldown:<reason>:<severity>",
    type: "string, TTL",
    writer: "P3.5",
    meaning: "At most one alert per reason and severity per cooldown.",
  },
  {
    key: "quantum:service:<service>:status",
    type: "hash",
    writer: "every service",
    meaning: "Mode, venue, version and heartbeat of a service (`quantumctl mode`, `quantumctl health`).",
  },
];
