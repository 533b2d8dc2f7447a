import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { decodeApplyResult, type HarvestProposal, streams } from "@quantum/contracts";
import { QUANTUMCTL_ENTRY } from "@quantum/stack";
import {
  closeProposalAt,
  entriesForPlan,
  eventually,
  type Fields,
  readStream,
  streamProposal,
  writeProposalHash,
} from "@quantum/testkit";
import type { Redis } from "ioredis";

/** The repo root (tests/e2e/test → ../../..). */
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export type { Fields };
export { streamProposal, writeProposalHash as writeProposal };

/** Every entry of a stream as {id, f}. */
export async function streamEntries(r: Redis, stream: string): Promise<Array<{ id: string; f: Fields }>> {
  return (await readStream(r, stream)).map(([id, f]) => ({ id, f }));
}

let stamp = Date.now() - 3_600_000;

/** A close proposal with a fresh computed_at_utc (so a fresh plan_id). */
export function proposal(symbol: string, over: Partial<HarvestProposal> = {}): HarvestProposal {
  stamp += 1000;
  return closeProposalAt(symbol, stamp, { reasonCodes: ["e2e"], ...over });
}

export async function resultsFor(r: Redis, planId: string): Promise<Fields[]> {
  return entriesForPlan(r, streams.applyResult, planId);
}

/** The one result of a plan, decoded strictly (what the Apply Layer writes must pass the contract). */
export async function waitResult(r: Redis, planId: string, timeoutMs = 20_000): Promise<Fields> {
  return eventually(
    async () => {
      const [res] = await resultsFor(r, planId);
      if (res === undefined) throw new Error(`no result for ${planId}`);
      const decoded = decodeApplyResult(res);
      if (!decoded.ok) throw new Error(`bad result: ${decoded.error.message}`);
      return res;
    },
    { timeoutMs, intervalMs: 50, message: `result of ${planId}` },
  );
}

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run the real quantumctl (packages/cli/dist/main.js) with `--redis-url`. */
export function quantumctl(redisUrl: string, args: readonly string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [`${ROOT}${QUANTUMCTL_ENTRY}`, ...args, "--redis-url", redisUrl], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    p.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    p.once("error", reject);
    p.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** quantumctl with `--json`: the parsed document (and the exit code). */
export async function quantumctlJson<T>(
  redisUrl: string,
  args: readonly string[],
): Promise<{ code: number | null; doc: T }> {
  const run = await quantumctl(redisUrl, [...args, "--json"]);
  try {
    return { code: run.code, doc: JSON.parse(run.stdout) as T };
  } catch {
    throw new Error(`quantumctl ${args.join(" ")}: exit ${run.code}, not JSON: ${run.stdout} ${run.stderr}`);
  }
}

/** Count of each value of `field` over apply.result. */
export function tally(entries: readonly Fields[], field: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of entries) {
    const v = f[field] ?? "";
    out[v] = (out[v] ?? 0) + 1;
  }
  return out;
}
