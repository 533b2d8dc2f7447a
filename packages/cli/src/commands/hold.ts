import { keys } from "@quantum/contracts";
import { isoOf } from "@quantum/insight";
import type { Redis } from "ioredis";
import { UsageError } from "../errors/usage-error.js";
import { atomicChange, queueAudit } from "./audit.js";
import { allowlistedSymbol } from "./symbols.js";

export const MAX_HOLD_REASON_CHARS = 1024;

export interface HoldResult {
  readonly symbol: string;
  readonly hold: "on" | "off";
  readonly key: string;
  /** The value before (null: no hold). */
  readonly previous: string | null;
  /** The value written (null: removed). */
  readonly value: string | null;
}

/**
 * `hold on|off <SYMBOL> --reason`: the reconcile hold P3.3 checks (any non-empty value denies the symbol's
 * plans with reconcile_hold_active). `on` writes `{"reason","by","at"}` as JSON; `off` deletes the key.
 */
export async function setHold(
  redis: Redis,
  symbolArg: string,
  on: boolean,
  opts: { by: string; reason?: string; nowMs?: number },
): Promise<HoldResult> {
  const reason = opts.reason?.trim() ?? "";
  if (on && reason === "") throw new UsageError("hold on: --reason TEXT is required (why hold this symbol?)");
  if (reason.length > MAX_HOLD_REASON_CHARS) {
    throw new UsageError(`--reason: longer than ${MAX_HOLD_REASON_CHARS} characters`);
  }
  const symbol = await allowlistedSymbol(redis, symbolArg, { requireAllowlist: false });
  const key = keys.reconcileHold(symbol);
  const nowMs = opts.nowMs ?? Date.now();
  const value = on ? JSON.stringify({ reason, by: opts.by, at: isoOf(nowMs / 1000) }) : null;
  const previous = await atomicChange(redis, [key], async (tx) => {
    const before = await redis.get(key);
    if (value === null) tx.del(key);
    else tx.set(key, value);
    queueAudit(
      tx,
      opts.by,
      {
        command: on ? "hold on" : "hold off",
        args: [symbol],
        reason: reason === "" ? null : reason,
        before,
        after: value,
      },
      nowMs,
    );
    return before;
  });
  return { symbol, hold: on ? "on" : "off", key, previous, value };
}
