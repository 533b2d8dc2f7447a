import { keys } from "@quantum/contracts";
import type { Redis } from "ioredis";
import { UsageError } from "../errors/usage-error.js";
import { validateSymbol } from "./permit.js";

/**
 * The symbols the Apply Layer may act on, from the `allowlist` field of its status hash (refreshed every
 * 5 s, expires 30 s after the service stops). Null when no Apply Layer reports one.
 */
export async function reportedAllowlist(redis: Redis): Promise<string[] | null> {
  const raw = await redis.hget(keys.serviceStatus("apply-layer"), "allowlist");
  if (raw === null) return null;
  return raw.split(",").filter((s) => s !== "");
}

/**
 * A symbol argument checked against the reported allowlist: malformed → usage error; not allowlisted →
 * usage error naming the allowlist; no allowlist reported → usage error when `requireAllowlist`, else accepted.
 */
export async function allowlistedSymbol(
  redis: Redis,
  arg: string,
  opts: { requireAllowlist: boolean },
): Promise<string> {
  const symbol = validateSymbol(arg);
  const allowlist = await reportedAllowlist(redis);
  if (allowlist === null) {
    if (!opts.requireAllowlist) return symbol;
    throw new UsageError(
      "no running Apply Layer reports its allowlist (quantumctl mode); nothing would act on this",
      "no_apply_layer",
    );
  }
  if (!allowlist.includes(symbol)) {
    throw new UsageError(
      `unknown symbol ${symbol}: not in the Apply Layer's allowlist (${allowlist.join(", ") || "empty"})`,
      "unknown_symbol",
    );
  }
  return symbol;
}
