import { type ApplyMode, keys } from "@quantum/contracts";
import { isoOf, type ModeSource, resolveApplyMode } from "@quantum/insight";
import { killSwitchHalts, ordersInFlight, readKillSwitch } from "@quantum/permits";
import type { Redis } from "ioredis";
import { CommandFailedError } from "../errors/command-failed-error.js";
import { UsageError } from "../errors/usage-error.js";
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

/**
 * `kill on` / `kill off`: the switch and its reason/by/at in ONE MULTI, then WAIT/WAITAOF confirmation.
 * `kill off` without --reason removes the previous reason.
 */
export async function setKillSwitch(redis: Redis, on: boolean, opts: KillSetOptions): Promise<KillSetResult> {
  const reason = cleanReason(opts.reason, on);
  const by = opts.by.trim() === "" ? "unknown" : opts.by.trim().slice(0, 256);
  const at = (opts.nowMs ?? Date.now()) / 1000;
  const value = on ? "true" : "false";
  const tx = redis.multi().set(keys.killSwitch, value).set(keys.killSwitchBy, by);
  tx.set(keys.killSwitchAt, at.toFixed(3));
  if (reason === null) tx.del(keys.killSwitchReason);
  else tx.set(keys.killSwitchReason, reason);
  const replies = await tx.exec();
  if (replies === null) throw new CommandFailedError("kill switch MULTI was aborted");
  for (const [err] of replies) {
    if (err) throw new CommandFailedError(`kill switch write failed: ${err.message}`);
  }
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
  readonly reason: string | null;
  readonly by: string | null;
  readonly at: string | null;
  readonly atIso: string | null;
  /** One sentence: why the value means halted/armed in this mode. */
  readonly explanation: string;
}

function explain(value: string | null, halted: boolean, mode: ApplyMode): string {
  if (value === null) {
    return halted
      ? `key missing: halted in ${mode} (a flushed or restored-empty Redis must not re-enable live trading)`
      : `key missing: armed in ${mode}`;
  }
  const v = value.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(v)) return `value "${value}": halted`;
  if (!halted) return `value "${value}": armed`;
  return `value "${value}" is not one of true|1|yes|on|false|0|no|off: halted (fail closed)`;
}

/** `kill status`: the permits package's rule applied in the Apply Layer's mode. */
export async function killStatus(
  redis: Redis,
  opts: { mode?: ApplyMode; envMode?: string } = {},
): Promise<KillStatusResult> {
  const resolved = await resolveApplyMode(redis, {
    ...(opts.mode !== undefined ? { option: opts.mode } : {}),
    ...(opts.envMode !== undefined ? { envMode: opts.envMode } : {}),
  });
  const s = await readKillSwitch(redis, resolved.mode);
  if (s.error !== undefined) throw new CommandFailedError(`cannot read the kill switch: ${s.error}`);
  const atNum = s.at === undefined ? null : Number(s.at);
  return {
    mode: resolved.mode,
    modeSource: resolved.source,
    keyPresent: s.value !== null,
    value: s.value,
    halted: s.halted,
    reason: s.reason ?? null,
    by: s.by ?? null,
    at: s.at ?? null,
    atIso: atNum === null ? null : isoOf(atNum),
    explanation: explain(s.value, s.halted, resolved.mode),
  };
}
