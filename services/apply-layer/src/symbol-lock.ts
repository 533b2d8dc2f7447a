import { keys } from "@quantum/contracts";
import { InvalidPermitArgumentError, UnexpectedScriptReplyError } from "@quantum/permits";
import { compareAndDelete } from "@quantum/runtime";
import type { Redis } from "ioredis";

export interface AcquireSymbolLockParams {
  symbol: string;
  /** This holder's token; a second acquire with the same token refreshes the TTL. */
  token: string;
  ttlMs: number;
  /**
   * Tokens that start with `takeoverPrefix` but not with `selfPrefix` belong to an earlier run of the same
   * instance (same stable consumer name) and are taken over. Omit both to never take over.
   */
  takeoverPrefix?: string;
  selfPrefix?: string;
}

export type AcquireSymbolLockResult = { outcome: "acquired" } | { outcome: "busy"; pttlMs: number };

/** SET the symbol lock to `token` with a TTL when it is free, ours, or a leftover of our earlier run. */
export async function acquireSymbolLock(
  redis: Redis,
  p: AcquireSymbolLockParams,
): Promise<AcquireSymbolLockResult> {
  if (p.symbol === "") throw new InvalidPermitArgumentError("symbol", "must not be empty");
  if (p.token === "") throw new InvalidPermitArgumentError("token", "must not be empty");
  if (!Number.isSafeInteger(p.ttlMs) || p.ttlMs < 1) {
    throw new InvalidPermitArgumentError("ttlMs", `must be an integer >= 1, got ${p.ttlMs}`);
  }
  const takeover = p.takeoverPrefix ?? "";
  const self = p.selfPrefix ?? "";
  if (takeover !== "" && (self === "" || !self.startsWith(takeover) || !p.token.startsWith(self))) {
    throw new InvalidPermitArgumentError(
      "selfPrefix",
      "must extend takeoverPrefix and prefix the token when takeoverPrefix is set",
    );
  }
  const reply = await redis.quantumAcquireLock(
    keys.symbolLock(p.symbol),
    p.token,
    String(p.ttlMs),
    takeover,
    self,
  );
  if (Array.isArray(reply) && reply[0] === "acquired") return { outcome: "acquired" };
  if (Array.isArray(reply) && reply[0] === "busy" && typeof reply[1] === "number") {
    return { outcome: "busy", pttlMs: reply[1] };
  }
  throw new UnexpectedScriptReplyError("acquireLock-1.lua", reply);
}

/** DEL the symbol lock only when it still holds `token`. Resolves true when released. */
export async function releaseSymbolLock(
  redis: Redis,
  p: { symbol: string; token: string },
): Promise<boolean> {
  if (p.token === "") throw new InvalidPermitArgumentError("token", "must not be empty");
  return compareAndDelete(redis, keys.symbolLock(p.symbol), p.token);
}
