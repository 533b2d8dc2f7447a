import { type ApplyMode, keys } from "@quantum/contracts";
import { effectiveMode, isoOf, type ModeSource } from "@quantum/insight";
import { killSwitchHalts, ordersInFlight, readKillSwitch } from "@quantum/permits";
import type { Redis } from "ioredis";
import { CommandFailedError } from "../errors/command-failed-error.js";
import { UsageError } from "../errors/usage-error.js";
import { type AuditRow, atomicChange, lastChangeOf, queueAudit } from "./audit.js";
import { confirmDurability, type DurabilityReport } from "./durability.js";

export const MAX_KILL_REASON_CHARS = 1024;

export interface KillSetOptions {
  /** Required (non-empty) for `kill on`, optional for `kill off`. */
  reason?: string;
  /** Who (operator name); the caller supplies a default such as user@host. */
  by: string;
  nowMs?: number;
  /** Timeout of WAIT / WAITAOF; default 1000 ms. */
  waitTimeoutMs?: number;
  /** `kill on`: how long to wait for orders already past the submit gate; default 10,000 ms. */
  drainTimeoutMs?: number;
}

/**
 * Orders that had passed the Apply Layer's submit gate before the switch: once the SET has returned no new
 * order can pass it, and `kill on` returns only when these have settled, so no order is sent after it.
 */
export interface InFlightDrain {
  /** Plans whose order was on its way when the switch was set. */
  readonly atSwitch: readonly string[];
  /** Still unsettled when the wait gave up (empty when drained). */
  readonly remaining: readonly string[];
  readonly waitedMs: number;
  readonly drained: boolean;
}

export interface KillSetResult {
  readonly switch: "on" | "off";
  readonly value: "true" | "false";
  readonly reason: string | null;
  readonly by: string;
  /** Epoch seconds written to `:at`. */
  readonly at: number;
  readonly atIso: string | null;
  /** The value before the change (null: the key was missing). */
  readonly previous: string | null;
  readonly durability: DurabilityReport;
  /** The value read back after the write, judged as production would (a value, so mode does not matter). */
  readonly readBack: { readonly value: string | null; readonly halted: boolean };
  /** `kill on` only: the wait for orders already in flight. */
  readonly inFlight: InFlightDrain | null;
}

/** Wait until no order that passed the submit gate is still SUBMITTING (or the timeout passes). */
export async function drainInFlight(redis: Redis, timeoutMs: number): Promise<InFlightDrain> {
  const start = Date.now();
  const atSwitch = await ordersInFlight(redis);
  let remaining = atSwitch;
  while (remaining.length > 0 && Date.now() - start < timeoutMs) {
    await new Promise((r) => setTimeout(r, 20));
    remaining = await ordersInFlight(redis);
  }
  return { atSwitch, remaining, waitedMs: Date.now() - start, drained: remaining.length === 0 };
}

function cleanReason(reason: string | undefined, required: boolean): string | null {
  const r = reason?.trim() ?? "";
  if (r === "") {
    if (required) throw new UsageError("kill on: --reason TEXT is required (why is trading being stopped?)");
    return null;
  }
  if (r.length > MAX_KILL_REASON_CHARS) {
    throw new UsageError(`--reason: longer than ${MAX_KILL_REASON_CHARS} characters`);
  }
  return r;
}

/** The audit commands that change the kill switch. */
export const KILL_COMMANDS = ["kill on", "kill off"] as const;

/**
 * `kill on` / `kill off`: the switch, its reason/by/at, the audit entry and the audit's last-seen value in ONE
 * MULTI (so the Apply Layer does not record it as an external change), then WAIT/WAITAOF confirmation.
 * `kill off` without --reason removes the previous reason.
 */
export async function setKillSwitch(redis: Redis, on: boolean, opts: KillSetOptions): Promise<KillSetResult> {
  const reason = cleanReason(opts.reason, on);
  const by = opts.by.trim() === "" ? "unknown" : opts.by.trim().slice(0, 256);
  const nowMs = opts.nowMs ?? Date.now();
  const at = nowMs / 1000;
  const value = on ? "true" : "false";
  const previous = await atomicChange(redis, [keys.killSwitch], async (tx) => {
    const before = await redis.get(keys.killSwitch);
    tx.set(keys.killSwitch, value).set(keys.killSwitchBy, by).set(keys.killSwitchAt, at.toFixed(3));
    if (reason === null) tx.del(keys.killSwitchReason);
    else tx.set(keys.killSwitchReason, reason);
    tx.hset(keys.auditLastSeen, keys.killSwitch, value);
    queueAudit(
      tx,
      by,
      { command: on ? "kill on" : "kill off", args: [], reason, before, after: value },
      nowMs,
    );
    return before;
  });
  const durability = await confirmDurability(redis, opts.waitTimeoutMs ?? 1000);
  const inFlight = on ? await drainInFlight(redis, opts.drainTimeoutMs ?? 10_000) : null;
  const back = await redis.get(keys.killSwitch);
  return {
    switch: on ? "on" : "off",
    value,
    reason,
    by,
    at: Number(at.toFixed(3)),
    atIso: isoOf(at),
    previous,
    durability,
    readBack: { value: back, halted: killSwitchHalts(back, "production") },
    inFlight,
  };
}

export interface KillStatusResult {
  readonly mode: ApplyMode;
  readonly modeSource: ModeSource;
  readonly keyPresent: boolean;
  readonly value: string | null;
  readonly halted: boolean;
  /** Reason, actor and time of the last change, from the audit stream (see `lastChange`). */
  readonly reason: string | null;
  readonly by: string | null;
  readonly at: string | null;
  readonly atIso: string | null;
  /**
   * The newest audit entry that changed the switch (quantumctl or external). When it does not lead to the
   * current value the switch was changed outside quantumctl and not recorded yet (no Apply Layer running):
   * `by` is then `unknown (changed outside quantumctl)`.
   */
  readonly lastChange: AuditRow | null;
  /** One sentence: why the value means halted or allowed in this mode. */
  readonly explanation: string;
}

function explain(value: string | null, halted: boolean, mode: ApplyMode): string {
  if (value === null) {
    return halted
      ? `key missing: halted in ${mode} (a flushed or restored-empty Redis must not re-enable live trading)`
      : `key missing: trading allowed in ${mode}`;
  }
  const v = value.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(v)) return `value "${value}": halted`;
  if (!halted) return `value "${value}": trading allowed`;
  return `value "${value}" is not one of true|1|yes|on|false|0|no|off: halted (fail closed)`;
}

/** Who made the current value of a control key, from its last audit entry (and the `:by/:at/:reason` keys). */
export function attribution(
  value: string | null,
  last: AuditRow | null,
  keyed: { reason?: string | undefined; by?: string | undefined; at?: string | undefined },
): { reason: string | null; by: string | null; at: string | null; atIso: string | null } {
  const e = last?.value ?? null;
  if (e !== null && e.after === (value ?? "")) {
    return {
      reason: e.reason === "" ? null : e.reason,
      by: e.actor,
      at: e.ts.toFixed(3),
      atIso: isoOf(e.ts),
    };
  }
  if (e !== null || (value !== null && keyed.by === undefined)) {
    return { reason: null, by: "unknown (changed outside quantumctl)", at: null, atIso: null };
  }
  // No audit entry for the current value (set before the audit stream existed): the keys are all there is.
  const atNum = keyed.at === undefined ? null : Number(keyed.at);
  return {
    reason: keyed.reason ?? null,
    by: keyed.by ?? null,
    at: keyed.at ?? null,
    atIso: atNum === null ? null : isoOf(atNum),
  };
}

/** `kill status`: the permits package's rule applied in the effective mode; who and why from the audit. */
export async function killStatus(
  redis: Redis,
  opts: { mode?: ApplyMode; envMode?: string } = {},
): Promise<KillStatusResult> {
  const resolved = await effectiveMode(redis, {
    ...(opts.mode !== undefined ? { option: opts.mode } : {}),
    ...(opts.envMode !== undefined ? { envMode: opts.envMode } : {}),
  });
  const s = await readKillSwitch(redis, resolved.mode);
  if (s.error !== undefined) throw new CommandFailedError(`cannot read the kill switch: ${s.error}`);
  const lastChange = await lastChangeOf(redis, keys.killSwitch, KILL_COMMANDS);
  return {
    mode: resolved.mode,
    modeSource: resolved.source,
    keyPresent: s.value !== null,
    value: s.value,
    halted: s.halted,
    ...attribution(s.value, lastChange, s),
    lastChange,
    explanation: explain(s.value, s.halted, resolved.mode),
  };
}
