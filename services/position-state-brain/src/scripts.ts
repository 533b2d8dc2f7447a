import { type LuaScriptTable, luaScriptTable, RUNTIME_SCRIPTS } from "@quantum/runtime";
import type { Redis, Result } from "ioredis";

/**
 * P3.3's Lua scripts (the ledger's, and the permit path's batch read and write); files live in this service's
 * `lua/` dir (this module sits in src/, so `../lua/`).
 */
export const P33_SCRIPTS = luaScriptTable(new URL("../lua/", import.meta.url), {
  initLedger: { numberOfKeys: 1 },
  applyLedgerResult: { numberOfKeys: 2 },
  readPermitState: {},
  writePermits: {},
});

/** Every script P3.3 runs, loaded on its main connection at startup (`loadScripts`). */
export const SERVICE_SCRIPTS: readonly LuaScriptTable[] = [RUNTIME_SCRIPTS, P33_SCRIPTS];

declare module "ioredis" {
  interface RedisCommander<Context> {
    /** initLedger-1.lua; use `initLedger()`. */
    quantumInitLedger(ledgerKey: string, ...fieldValuePairs: string[]): Result<[number, string], Context>;
    /** applyLedgerResult-2.lua; use `applyLedgerResult()`. */
    quantumApplyLedgerResult(
      ledgerKey: string,
      appliedKey: string,
      resultId: string,
      expectedAmt: string,
      keepApplied: string,
      ...fieldValuePairs: string[]
    ): Result<number, Context>;
    /** readPermitState.lua; use `PermitPath`. Args: numkeys, then 4 keys per symbol. */
    quantumReadPermitState(numKeys: number, ...keys: string[]): Result<unknown, Context>;
    /** writePermits.lua; use `PermitPath`. Args: numkeys, stream, permit keys…, group, ttl, values…, ids…. */
    quantumWritePermits(numKeys: number, ...keysAndArgs: string[]): Result<unknown, Context>;
  }
}

function flatten(fields: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(fields)) out.push(k, v);
  return out;
}

/** Arguments of initLedger for a pipeline: `pipe.quantumInitLedger(...initLedgerArgs(key, fields))`. */
export function initLedgerArgs(
  ledgerKey: string,
  fields: Readonly<Record<string, string>>,
): [string, ...string[]] {
  return [ledgerKey, ...flatten(fields)];
}

/** What initLedger found: whether it wrote, and the ledger amount now stored. */
export function parseInitLedgerReply(reply: unknown): { initialised: boolean; amt: string } {
  if (!Array.isArray(reply) || reply.length !== 2 || typeof reply[1] !== "string") {
    throw new Error(`initLedger: unexpected reply ${JSON.stringify(reply)}`);
  }
  return { initialised: Number(reply[0]) === 1, amt: reply[1] };
}

export type ApplyLedgerOutcome = "applied" | "already_applied" | "conflict";

/** How many applied result ids per symbol are remembered (the result stream keeps ~10 000 entries). */
export const KEEP_APPLIED_IDS = 20_000;

export async function applyLedgerResult(
  redis: Redis,
  args: {
    ledgerKey: string;
    appliedKey: string;
    resultId: string;
    expectedAmt: string | null;
    fields: Readonly<Record<string, string>>;
  },
): Promise<ApplyLedgerOutcome> {
  const code = await redis.quantumApplyLedgerResult(
    args.ledgerKey,
    args.appliedKey,
    args.resultId,
    args.expectedAmt ?? "",
    String(KEEP_APPLIED_IDS),
    ...flatten(args.fields),
  );
  if (code === 1) return "applied";
  if (code === 0) return "already_applied";
  if (code === -1) return "conflict";
  throw new Error(`applyLedgerResult: unexpected reply ${String(code)}`);
}
