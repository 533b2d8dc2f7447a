import {
  type ApplyMode,
  type ApplyResult,
  computePlanId,
  DEFAULT_STREAM_MAXLEN,
  decodeApplyResult,
  encodeHarvestProposal,
  fieldsToRecord,
  type HarvestProposal,
  streams,
} from "@quantum/contracts";
import { effectiveMode, type ModeSource } from "@quantum/insight";
import type { Redis } from "ioredis";
import { CommandFailedError } from "../errors/command-failed-error.js";
import { UsageError } from "../errors/usage-error.js";
import { execChecked, queueAudit } from "./audit.js";
import { allowlistedSymbol } from "./symbols.js";

/** `--fraction` → the close action the Apply Layer executes. */
export const CLOSE_FRACTIONS = {
  "1": "FULL_CLOSE_PROPOSED",
  "0.75": "PARTIAL_75",
  "0.5": "PARTIAL_50",
} as const;
export type CloseFraction = keyof typeof CLOSE_FRACTIONS;

export const MAX_CLOSE_REASON_CHARS = 1024;
/** Default wait for the plan's result. */
export const DEFAULT_CLOSE_TIMEOUT_SEC = 30;

export interface CloseOptions {
  fraction?: string;
  reason?: string;
  by: string;
  timeoutMs?: number;
  envMode?: string;
  nowMs?: number;
}

export interface CloseResult {
  readonly symbol: string;
  readonly action: string;
  readonly planId: string;
  readonly mode: ApplyMode;
  readonly modeSource: ModeSource;
  /** Entry id of the proposal on quantum:stream:harvest.proposal. */
  readonly proposalId: string;
  /** The plan's result; null when none arrived within the timeout (or it does not decode). */
  readonly result: ApplyResult | null;
  /** Why the result entry that arrived does not decode. */
  readonly resultDecodeError: string | null;
  readonly resultId: string | null;
  readonly waitedMs: number;
}

function parseFraction(v: string | undefined): CloseFraction {
  const f = (v ?? "1").trim();
  const key = f === "1.0" ? "1" : f === "0.50" ? "0.5" : f;
  if (!(key in CLOSE_FRACTIONS)) {
    throw new UsageError(`--fraction: expected 1, 0.75 or 0.5, got "${v}"`);
  }
  return key as CloseFraction;
}

/** The operator's proposal: no kill score, no stop, a computed_at_utc of now (so a new plan_id). */
export function operatorProposal(symbol: string, action: string, nowMs: number): HarvestProposal {
  return {
    symbol,
    action,
    calibrated: false,
    killScore: 0,
    kRegimeFlip: 0,
    kSigmaSpike: 0,
    kTsDrop: 0,
    kAgePenalty: 0,
    newSlProposed: null,
    rNet: 0,
    lastUpdateEpoch: Math.floor(nowMs / 1000),
    computedAtUtc: new Date(nowMs).toISOString(),
    reasonCodes: ["operator_close"],
  };
}

async function lastEntryId(redis: Redis, stream: string): Promise<string> {
  const [last] = await redis.xrevrange(stream, "+", "-", "COUNT", 1);
  return last?.[0] ?? "0-0";
}

/** Read apply.result after `fromId` until an entry of `planId` arrives or the deadline passes. */
async function waitForResult(
  redis: Redis,
  planId: string,
  fromId: string,
  deadlineMs: number,
): Promise<{ id: string; fields: Record<string, string> } | null> {
  let cursor = fromId;
  for (;;) {
    const left = deadlineMs - Date.now();
    if (left <= 0) return null;
    const reply = (await redis.xread(
      "COUNT",
      500,
      "BLOCK",
      Math.max(1, Math.min(1000, left)),
      "STREAMS",
      streams.applyResult,
      cursor,
    )) as Array<[string, Array<[string, string[]]>]> | null;
    for (const [, entries] of reply ?? []) {
      for (const [id, flat] of entries) {
        cursor = id;
        const fields = fieldsToRecord(flat);
        if (fields.plan_id === planId) return { id, fields };
      }
    }
  }
}

/**
 * `close <SYMBOL> [--fraction 1|0.75|0.5] --reason TEXT`: an operator proposal (source=operator) on the
 * proposal stream, written in one MULTI with its audit entry. It goes through the same gates as any plan
 * (kill switch, trading state, both permits); the command then waits for the plan's result on apply.result.
 * Refused (nothing written) for a malformed or unknown symbol, a bad fraction, or a missing --reason in
 * production (a live service reports production, or no service reports a mode).
 */
export async function closePosition(
  redis: Redis,
  symbolArg: string,
  opts: CloseOptions,
): Promise<CloseResult> {
  const fraction = parseFraction(opts.fraction);
  const reasonText = opts.reason?.trim() ?? "";
  if (reasonText.length > MAX_CLOSE_REASON_CHARS) {
    throw new UsageError(`--reason: longer than ${MAX_CLOSE_REASON_CHARS} characters`);
  }
  const symbol = await allowlistedSymbol(redis, symbolArg, { requireAllowlist: true });
  const resolved = await effectiveMode(redis, opts.envMode !== undefined ? { envMode: opts.envMode } : {});
  if (resolved.mode === "production" && reasonText === "") {
    throw new UsageError(
      `close: --reason TEXT is required in production (mode ${resolved.mode} from ${resolved.source})`,
    );
  }
  const reason = reasonText === "" ? null : reasonText;
  const action = CLOSE_FRACTIONS[fraction];
  const nowMs = opts.nowMs ?? Date.now();
  const proposal = operatorProposal(symbol, action, nowMs);
  const planId = computePlanId(proposal);
  const fields: Record<string, string> = {
    ...encodeHarvestProposal(proposal),
    source: "operator",
    operator: opts.by,
    ...(reason !== null ? { operator_reason: reason } : {}),
  };
  const fromId = await lastEntryId(redis, streams.applyResult);
  const started = Date.now();
  const tx = redis
    .multi()
    .xadd(
      streams.harvestProposal,
      "MAXLEN",
      "~",
      String(DEFAULT_STREAM_MAXLEN),
      "*",
      ...Object.entries(fields).flat(),
    );
  queueAudit(
    tx,
    opts.by,
    {
      command: "close",
      args: [symbol, "--fraction", fraction],
      reason,
      before: null,
      after: JSON.stringify({ plan_id: planId, action }),
    },
    nowMs,
  );
  const replies = await execChecked(tx);
  const proposalId = replies?.[0];
  if (typeof proposalId !== "string") throw new CommandFailedError("close: the proposal was not written");
  const found = await waitForResult(
    redis,
    planId,
    fromId,
    started + (opts.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_SEC * 1000),
  );
  const decoded = found === null ? null : decodeApplyResult(found.fields);
  return {
    symbol,
    action,
    planId,
    mode: resolved.mode,
    modeSource: resolved.source,
    proposalId,
    result: decoded?.ok ? decoded.value : null,
    resultDecodeError: decoded !== null && !decoded.ok ? decoded.error.message : null,
    resultId: found?.id ?? null,
    waitedMs: Date.now() - started,
  };
}
