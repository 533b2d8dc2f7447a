import { luaScriptTable } from "@quantum/runtime";
import type { Result } from "ioredis";

/**
 * The Lua scripts of this package (its `lua/` dir; this module sits in src/, so `../lua/` resolves from src/
 * in tests and from dist/ when built): consuming the permits and claiming the execution record, and the
 * record's state changes up to the submit gate. They share the kill-switch rule (`includes/controlRules.lua`)
 * with its TypeScript twin in kill-switch.ts. A service loads them at startup with `loadScripts`.
 */
export const PERMIT_SCRIPTS = luaScriptTable(new URL("../lua/", import.meta.url), {
  consumePermits: { numberOfKeys: 6 },
  claimExecution: { numberOfKeys: 4 },
  transitionExec: { numberOfKeys: 1 },
  beginSubmit: { numberOfKeys: 5 },
});

declare module "ioredis" {
  interface RedisCommander<Context> {
    /** consumePermits-6.lua; use `consumePermits()` instead of calling this directly. */
    quantumConsumePermits(
      governorPermitKey: string,
      p33PermitKey: string,
      killSwitchKey: string,
      tradingStateKey: string,
      execRecordKey: string,
      execOpenKey: string,
      nowMs: string,
      missingKillSwitchHalts: "0" | "1",
      execRecordTtlSec: string,
      planId: string,
      symbol: string,
    ): Result<unknown, Context>;
    /** claimExecution-4.lua; use `claimExecution()` instead of calling this directly. */
    quantumClaimExecution(
      killSwitchKey: string,
      tradingStateKey: string,
      execRecordKey: string,
      execOpenKey: string,
      nowMs: string,
      missingKillSwitchHalts: "0" | "1",
      execRecordTtlSec: string,
      planId: string,
      symbol: string,
    ): Result<unknown, Context>;
    /** beginSubmit-5.lua; use `beginSubmit()` instead of calling this directly. */
    quantumBeginSubmit(
      execRecordKey: string,
      killSwitchKey: string,
      tradingStateKey: string,
      submittingKey: string,
      symbolLockKey: string,
      nowMs: string,
      missingKillSwitchHalts: "0" | "1",
      planId: string,
      expectedStates: string,
      lockToken: string,
      ...fieldValuePairs: string[]
    ): Result<unknown, Context>;
    /** transitionExec-1.lua; use `transitionExec()` instead of calling this directly. */
    quantumTransitionExec(
      execRecordKey: string,
      expectedStates: string,
      newState: string,
      nowMs: string,
      ...fieldValuePairs: string[]
    ): Result<unknown, Context>;
  }
}
