import {
  decodeExecRecord,
  decodeGovernorBlock,
  decodeGovernorPermit,
  decodeP33Permit,
  type ExecRecord,
  encodeGovernorPermit,
  fieldsToRecord,
  type GovernorBlock,
  type GovernorPermit,
  isDecimalString,
  keys,
  type P33Permit,
  PLAN_ID_RE,
  SYMBOL_RE,
  streams,
} from "@quantum/contracts";
import {
  effectiveMode,
  hashView,
  type KeyView,
  readHashKeys,
  readStringKeys,
  stringView,
} from "@quantum/insight";
import type { Redis } from "ioredis";
import { UsageError } from "../errors/usage-error.js";
import { atomicChange, queueAudit } from "./audit.js";

export const GOVERNOR_PERMIT_TTL_SEC = 60;
/** How far back `permit grant` looks in apply.plan for the plan's symbol when --symbol is not given. */
export const PLAN_LOOKBACK_ENTRIES = 2000;

export interface PermitShowResult {
  readonly planId: string;
  readonly governorPermit: KeyView<GovernorPermit>;
  readonly p33Permit: KeyView<P33Permit>;
  readonly governorBlock: KeyView<GovernorBlock>;
  readonly execRecord: KeyView<ExecRecord, Record<string, string>>;
}

export function validatePlanId(planId: string): string {
  const p = planId.trim().toLowerCase();
  if (!PLAN_ID_RE.test(p)) throw new UsageError(`plan_id must be 16 hex characters, got "${planId}"`);
  return p;
}

export function validateSymbol(symbol: string): string {
  const s = symbol.trim().toUpperCase();
  if (!SYMBOL_RE.test(s)) throw new UsageError(`not a symbol: "${symbol}"`);
  return s;
}

/** `permit show <plan_id>`: both permits, the Governor block and the execution record, decoded. */
export async function permitShow(redis: Redis, planIdArg: string): Promise<PermitShowResult> {
  const planId = validatePlanId(planIdArg);
  const [gov, p33, block] = await readStringKeys(redis, [
    keys.governorPermit(planId),
    keys.p33Permit(planId),
    keys.governorBlock(planId),
  ] as const);
  const [exec] = await readHashKeys(redis, [keys.execRecord(planId)]);
  return {
    planId,
    governorPermit: stringView(gov!, decodeGovernorPermit),
    p33Permit: stringView(p33!, decodeP33Permit),
    governorBlock: stringView(block!, decodeGovernorBlock),
    execRecord: hashView(exec!, decodeExecRecord),
  };
}

export interface PermitGrantOptions {
  symbol?: string;
  /** Decimal string written as computed_qty. */
  qty?: string;
  /** `--production` given. */
  production?: boolean;
  /** Who (user@host), for the audit entry. */
  by: string;
  nowMs?: number;
  ttlSec?: number;
}

export interface PermitGrantResult {
  readonly planId: string;
  readonly key: string;
  readonly permit: GovernorPermit;
  readonly ttlSec: number;
  readonly symbolSource: "option" | "p33 permit" | "execution record" | "apply.plan";
  /** The value the key held before (a grant replaces an existing permit). */
  readonly replaced: string | null;
  readonly warnings: readonly string[];
}

/**
 * Throws (exit 2) unless a live service reports a non-production mode: `--production`, a live service in
 * production, or no live service at all (an unknown mode is treated as production) all refuse.
 */
async function refuseUnlessNonProduction(redis: Redis, production: boolean, nowMs: number): Promise<void> {
  const refuse = (why: string): never => {
    throw new UsageError(
      `permit grant REFUSED: ${why}. Manual Governor permits are for dry_run/paper/testnet only; in production ` +
        "the Governor (P3.2) must grant.",
      "refused_in_production",
    );
  };
  if (production) refuse("production declared (--production)");
  const m = await effectiveMode(redis, { nowMs });
  if (m.source !== "live service") {
    refuse("no running service reports its mode (see quantumctl mode), so this may be production");
  }
  if (m.mode === "production") refuse(`${m.service ?? "a service"} reports production in its status hash`);
}

async function findPlanSymbol(redis: Redis, planId: string): Promise<string | null> {
  const entries = await redis.xrevrange(streams.applyPlan, "+", "-", "COUNT", PLAN_LOOKBACK_ENTRIES);
  for (const [, flat] of entries) {
    const rec = fieldsToRecord(flat);
    if (rec.plan_id === planId && rec.symbol !== undefined && SYMBOL_RE.test(rec.symbol)) return rec.symbol;
  }
  return null;
}

/**
 * `permit grant <plan_id>`: write a Governor permit (`granted:true`, EX 60) for manual testing.
 * REFUSED (UsageError, exit 2) in production.
 */
export async function permitGrant(
  redis: Redis,
  planIdArg: string,
  opts: PermitGrantOptions,
): Promise<PermitGrantResult> {
  const planId = validatePlanId(planIdArg);
  if (opts.qty !== undefined && (!isDecimalString(opts.qty) || Number(opts.qty) <= 0)) {
    throw new UsageError(`--qty: expected a positive decimal like 0.01, got "${opts.qty}"`);
  }
  const optSymbol = opts.symbol === undefined ? undefined : validateSymbol(opts.symbol);
  const nowMs = opts.nowMs ?? Date.now();
  await refuseUnlessNonProduction(redis, opts.production ?? false, nowMs);

  const shown = await permitShow(redis, planId);
  let symbol: string | null = optSymbol ?? null;
  let symbolSource: PermitGrantResult["symbolSource"] = "option";
  if (symbol === null && shown.p33Permit.decoded !== null) {
    symbol = shown.p33Permit.decoded.symbol;
    symbolSource = "p33 permit";
  }
  if (symbol === null && shown.execRecord.decoded !== null) {
    symbol = shown.execRecord.decoded.symbol;
    symbolSource = "execution record";
  }
  if (symbol === null) {
    symbol = await findPlanSymbol(redis, planId);
    symbolSource = "apply.plan";
  }
  if (symbol === null) {
    throw new UsageError(
      `permit grant: plan ${planId} not found in the last ${PLAN_LOOKBACK_ENTRIES} apply.plan entries; pass --symbol`,
    );
  }
  const warnings: string[] = [];
  if (shown.execRecord.present) {
    warnings.push(
      `an execution record exists (state ${shown.execRecord.decoded?.state ?? "?"}): the plan was already claimed`,
    );
  }
  if (shown.governorBlock.present)
    warnings.push("a Governor block exists for this plan: the Apply Layer stops on it");
  const ttlSec = opts.ttlSec ?? GOVERNOR_PERMIT_TTL_SEC;
  const permit: GovernorPermit = {
    granted: true,
    symbol,
    decision: "EXECUTE",
    computedQty: opts.qty ?? null,
    computedNotional: null,
    createdAt: Number((nowMs / 1000).toFixed(3)),
    consumed: false,
  };
  const key = keys.governorPermit(planId);
  const encoded = encodeGovernorPermit(permit);
  const previous = await atomicChange(redis, [key], async (tx) => {
    const before = await redis.get(key);
    tx.set(key, encoded, "EX", ttlSec);
    queueAudit(
      tx,
      opts.by,
      { command: "permit grant", args: [planId, symbol], reason: null, before, after: encoded },
      nowMs,
    );
    return before;
  });
  return { planId, key, permit, ttlSec, symbolSource, replaced: previous, warnings };
}
