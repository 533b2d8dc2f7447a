/**
 * Every Redis key and stream name of the system. Nothing else in the repo concatenates key strings.
 * Names are exact: upstream producers, operator scripts and dashboards speak them.
 */

const Q = "quantum";

/** Streams. */
export const streams = {
  applyPlan: `${Q}:stream:apply.plan`,
  applyResult: `${Q}:stream:apply.result`,
  harvestProposal: `${Q}:stream:harvest.proposal`,
  p35Alerts: `${Q}:p35:alerts`,
  deadLetter: `${Q}:stream:deadletter`,
  paperOrders: `${Q}:paper:orders`,
  /** Who changed what: one entry per operator change (quantumctl) or external change seen by the Apply Layer. */
  audit: `${Q}:audit`,
} as const;

/** Consumer groups. */
export const groups = {
  governor: "governor",
  p33: "p33",
  p35: "p35_decision_intel",
  p33Ledger: "p33_ledger",
  apply: "apply",
} as const;

/** Default approximate MAXLEN of every XADD. */
export const DEFAULT_STREAM_MAXLEN = 10_000;
/** MAXLEN of the P3.5 alert stream. */
export const ALERT_STREAM_MAXLEN = 1_000;
/** MAXLEN of the audit stream (approximate; kept longer than the others: it is the operators' history). */
export const AUDIT_STREAM_MAXLEN = 100_000;

export const keys = {
  // proposals
  harvestProposal: (symbol: string) => `${Q}:harvest:proposal:${symbol}`,
  // permits
  governorPermit: (planId: string) => `${Q}:permit:${planId}`,
  p33Permit: (planId: string) => `${Q}:permit:p33:${planId}`,
  governorBlock: (planId: string) => `${Q}:governor:block:${planId}`,
  execRecord: (planId: string) => `${Q}:apply:exec:${planId}`,
  /** Marker that a plan_id was published to apply.plan (publish-once guard). */
  planPublished: (planId: string) => `${Q}:apply:plan_published:${planId}`,
  /** Marker that the result of a plan_id was published (exactly one result). */
  resultPublished: (planId: string) => `${Q}:apply:result_published:${planId}`,
  /** Apply Layer in-flight lock per symbol (one plan in flight per symbol across instances). */
  symbolLock: (symbol: string) => `${Q}:apply:lock:${symbol}`,
  /** This system's protective stop for a symbol (UPDATE_SL). */
  protectiveStop: (symbol: string) => `${Q}:apply:protective_stop:${symbol}`,
  /**
   * Apply Layer plans published as EXECUTE whose result is not yet published (hash plan_id → plan JSON).
   * Written with the plan, removed with the result: a restarted instance resumes what is left.
   */
  applyOpenPlans: `${Q}:apply:open_plans`,
  /**
   * Orders that passed the kill-switch gate (record SUBMITTING) and may be on their way to the venue:
   * ZSET plan_id → epoch ms. `quantumctl kill on` waits for these before it returns.
   */
  applySubmitting: `${Q}:apply:submitting`,
  /**
   * Index of non-final execution records: ZSET plan_id → epoch ms of the claim. Added with the claim, removed
   * when the record is final; recovery reads it instead of scanning the keyspace.
   */
  execOpen: `${Q}:apply:exec:open`,
  /**
   * Liveness of one consumer name of a service (string, TTL a few seconds, renewed while alive). A second
   * instance that finds it renewed refuses to start under the same name.
   */
  consumerHeartbeat: (service: string, consumer: string) => `${Q}:service:${service}:consumer:${consumer}`,
  // control keys
  killSwitch: `${Q}:global:kill_switch`,
  killSwitchReason: `${Q}:global:kill_switch:reason`,
  killSwitchBy: `${Q}:global:kill_switch:by`,
  killSwitchAt: `${Q}:global:kill_switch:at`,
  tradingState: `${Q}:global:trading_state`,
  tradingStateReason: `${Q}:global:trading_state:reason`,
  tradingStateBy: `${Q}:global:trading_state:by`,
  tradingStateAt: `${Q}:global:trading_state:at`,
  /**
   * Hash: watched control key (kill switch, trading state) → the value its last recorded change left.
   * quantumctl sets it in the same MULTI as its change; the Apply Layer compares it with the live value
   * to record changes made outside quantumctl exactly once.
   */
  auditLastSeen: `${Q}:audit:last_seen`,
  reconcileHold: (symbol: string) => `${Q}:reconcile:hold:${symbol}`,
  cooldownLastExecTs: (symbol: string) => `${Q}:cooldown:last_exec_ts:${symbol}`,
  // positions
  positionSnapshot: (symbol: string) => `${Q}:position:snapshot:${symbol}`,
  positionLedger: (symbol: string) => `${Q}:position:ledger:${symbol}`,
  positionView: (symbol: string) => `${Q}:position:${symbol}`,
  /**
   * P3.3 ledger bookkeeping: ZSET of apply.result stream ids already applied to the ledger of a symbol
   * (score = the id's ms time), so a redelivered or out-of-order result is applied exactly once.
   */
  p33LedgerApplied: (symbol: string) => `${Q}:p33:ledger:applied:${symbol}`,
  paperPosition: (symbol: string) => `${Q}:paper:position:${symbol}`,
  paperOrder: (clientOrderId: string) => `${Q}:paper:order:${clientOrderId}`,
  paperOrderSeq: `${Q}:paper:order_seq`,
  // P3.5
  p35Bucket: (yyyymmddhhmm: string) => `${Q}:p35:bucket:${yyyymmddhhmm}`,
  p35DecisionCounts: (window: string) => `${Q}:p35:decision:counts:${window}`,
  p35ReasonTop: (window: string) => `${Q}:p35:reason:top:${window}`,
  p35UnknownDecisionTop5m: `${Q}:p35:unknown_decision:top:5m`,
  p35Status: `${Q}:p35:status`,
  p35AlertCooldown: (reason: string, severity: string) => `${Q}:p35:alert:cooldown:${reason}:${severity}`,
  /**
   * Per-symbol decision mix of a window (15m, 1h): hash `<SYMBOL>:<DECISION>` → count, only symbols seen in
   * the window. Recomputed with the other windows, replaced atomically, deleted when the window is empty.
   */
  p35SymbolDecisionCounts: (window: string) => `${Q}:p35:symbol:decision:counts:${window}`,
  /** Per-symbol reason counts of a window (15m, 1h): hash `<SYMBOL>:<REASON>` → count (`none` included). */
  p35SymbolReasonCounts: (window: string) => `${Q}:p35:symbol:reason:counts:${window}`,
  /** Cooldown of the stuck alert of one symbol (string = alert id, EX = the alert cooldown). */
  p35StuckCooldown: (symbol: string) => `${Q}:p35:alert:cooldown:stuck:${symbol}`,
  /**
   * Daily rollup of one UTC day (`YYYYMMDD`): hash with the sums of the day's minute buckets (`decision:<D>`,
   * `reason:<R>`, `symbol_decision:<SYMBOL>:<D>`, `symbol_reason:<SYMBOL>:<R>`) and `meta:*` fields. Written
   * once, never updated.
   */
  p35Day: (yyyymmdd: string) => `${Q}:p35:day:${yyyymmdd}`,
  // per-service status (quantumctl mode / health)
  serviceStatus: (service: string) => `${Q}:service:${service}:status`,
} as const;

/** Key patterns for SCAN (operators' tools). */
export const keyPatterns = {
  harvestProposal: `${Q}:harvest:proposal:*`,
  positionSnapshot: `${Q}:position:snapshot:*`,
  positionLedger: `${Q}:position:ledger:*`,
  paperPosition: `${Q}:paper:position:*`,
  p35Bucket: `${Q}:p35:bucket:*`,
  execRecord: `${Q}:apply:exec:*`,
  serviceStatus: `${Q}:service:*:status`,
} as const;

/** The symbol at the end of a per-symbol key, or null. */
export function symbolFromKey(key: string, pattern: string): string | null {
  const prefix = pattern.endsWith("*") ? pattern.slice(0, -1) : pattern;
  return key.startsWith(prefix) ? key.slice(prefix.length) : null;
}

/** Keyspace-notification channel of a key in a database (`__keyspace@<db>__:<key>`). */
export function keyspaceChannel(db: number, key: string): string {
  return `__keyspace@${db}__:${key}`;
}

/** The P3.5 windows and their length in minutes. */
export const P35_WINDOWS = { "1m": 1, "5m": 5, "15m": 15, "1h": 60 } as const;
export type P35Window = keyof typeof P35_WINDOWS;
/** The windows P3.5 also keeps per symbol (`p35SymbolDecisionCounts`, `p35SymbolReasonCounts`). */
export const P35_SYMBOL_WINDOWS = ["15m", "1h"] as const satisfies readonly P35Window[];
export type P35SymbolWindow = (typeof P35_SYMBOL_WINDOWS)[number];

/** `YYYYMMDD` of the UTC day containing an instant: the id of a `p35Day` rollup. */
export function p35DayId(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}`;
}
