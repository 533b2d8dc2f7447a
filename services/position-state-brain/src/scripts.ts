import { defineLuaScripts, loadLuaScripts, luaScriptsDefined } from "@quantum/runtime";
import type { Redis, Result } from "ioredis";

/**
 * The ledger's Lua scripts (lua/*.lua), defined on a client with defineCommand. This module sits directly in
 * src/ so `../lua/` resolves from both src/ (tests) and dist/main.js (build). A missing file fails at startup.
 */

declare module "ioredis" {
  interface RedisCommander<Context> {
    /** initLedger-1.lua; use `initLedger()`. */
    quantumP33InitLedger(ledgerKey: string, ...fieldValuePairs: string[]): Result<[number, string], Context>;
    /** applyLedgerResult-2.lua; use `applyLedgerResult()`. */
    quantumP33ApplyLedgerResult(
      ledgerKey: string,
      appliedKey: string,
      resultId: string,
      expectedAmt: string,
      keepApplied: string,
      ...fieldValuePairs: string[]
    ): Result<number, Context>;
  }
}

const SCRIPTS = {
  initLedger: { file: "initLedger-1.lua", command: "quantumP33InitLedger", numberOfKeys: 1 },
  applyLedgerResult: {
    file: "applyLedgerResult-2.lua",
    command: "quantumP33ApplyLedgerResult",
    numberOfKeys: 2,
  },
} as const;

const LUA_DIR = new URL("../lua/", import.meta.url);

/** Define the ledger scripts on this client (idempotent). Throws LuaScriptLoadError when a file is missing. */
export function defineLedgerScripts(redis: Redis): void {
  if (luaScriptsDefined(redis, SCRIPTS)) return;
  defineLuaScripts(redis, SCRIPTS, loadLuaScripts(LUA_DIR, SCRIPTS));
}

function flatten(fields: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(fields)) out.push(k, v);
  return out;
}

/** Arguments of initLedger for a pipeline: `pipe.quantumP33InitLedger(...initLedgerArgs(key, fields))`. */
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
  const code = await redis.quantumP33ApplyLedgerResult(
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
