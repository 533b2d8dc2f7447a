import {
  computePlanId,
  encodeHarvestProposal,
  type HarvestProposal,
  keys,
  streams,
} from "@quantum/contracts";
import type { Redis } from "ioredis";

/**
 * Test helpers for the proposal → plan → permits → result flow, shared by the Apply Layer tests, the e2e suite and the reliability
 * suite: proposals in the two intake forms, and stream reads.
 */

export type Fields = Record<string, string>;

/** A PARTIAL_50 close proposal computed at `atMs`; a distinct time gives a distinct plan_id. */
export function closeProposalAt(
  symbol: string,
  atMs: number,
  over: Partial<HarvestProposal> = {},
): HarvestProposal {
  return {
    symbol,
    action: "PARTIAL_50",
    calibrated: false,
    killScore: 0.31,
    kRegimeFlip: 0.1,
    kSigmaSpike: 0.05,
    kTsDrop: 0.1,
    kAgePenalty: 0.02,
    newSlProposed: null,
    rNet: 1.2,
    lastUpdateEpoch: Math.floor(atMs / 1000),
    computedAtUtc: new Date(atMs).toISOString().replace(/\.\d{3}Z$/, "Z"),
    reasonCodes: [],
    ...over,
  };
}

/** Write the proposal hash the Apply Layer polls (replacing the previous one); returns the plan_id. */
export async function writeProposalHash(r: Redis, p: HarvestProposal): Promise<string> {
  const key = keys.harvestProposal(p.symbol);
  await r.multi().del(key).hset(key, encodeHarvestProposal(p)).exec();
  return computePlanId(p);
}

/** XADD the proposal to quantum:stream:harvest.proposal (the event path); returns the plan_id. */
export async function streamProposal(r: Redis, p: HarvestProposal): Promise<string> {
  await r.xadd(streams.harvestProposal, "*", ...Object.entries(encodeHarvestProposal(p)).flat());
  return computePlanId(p);
}

/** A flat XRANGE field list as a record. */
export function toFields(flat: readonly string[]): Fields {
  const out: Fields = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as string] = flat[i + 1] as string;
  return out;
}

/** Every entry of a stream, oldest first, read in pages of 1,000. */
export async function readStream(r: Redis, stream: string): Promise<Array<[string, Fields]>> {
  const out: Array<[string, Fields]> = [];
  let start = "-";
  for (;;) {
    const rows = (await r.xrange(stream, start, "+", "COUNT", 1000)) as Array<[string, string[]]>;
    for (const [id, flat] of rows) out.push([id, toFields(flat)]);
    if (rows.length < 1000) return out;
    start = `(${rows.at(-1)?.[0]}`;
  }
}

/** The entries of a stream (apply.plan, apply.result, ...) that carry this plan_id. */
export async function entriesForPlan(r: Redis, stream: string, planId: string): Promise<Fields[]> {
  return (await readStream(r, stream)).filter(([, f]) => f.plan_id === planId).map(([, f]) => f);
}
