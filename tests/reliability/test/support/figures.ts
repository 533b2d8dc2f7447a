import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

/** tests/reliability/results/last-run.json (gitignored): the figures docs/reliability.md quotes. */
export const LAST_RUN_FILE = fileURLToPath(new URL("../../results/last-run.json", import.meta.url));

export interface SectionFigures {
  /** Plans published during the scenario. */
  plans: number;
  /** Faults injected (process kills, outages, exchange faults, bad entries...). */
  faults: number;
  /** Orders the venue holds at the end. */
  orders: number;
  /** Second orders attempted for a plan (must be 0). */
  duplicates: number;
  /** Plans without exactly one result (must be 0). */
  lost: number;
  /** Wall time of the scenario, seconds. */
  seconds: number;
  [extra: string]: unknown;
}

type LastRun = {
  seed: number;
  updatedAt: string;
  node: string;
  sections: Record<string, SectionFigures & { seed: number; at: string }>;
};

/**
 * Merge one file's figures into last-run.json (files run one at a time, so read-modify-write is safe).
 * A section records the random seed it ran with; the top-level seed is the last one written.
 */
export function recordFigures(section: string, seed: number, figures: SectionFigures): void {
  let doc: LastRun = { seed, updatedAt: "", node: process.version, sections: {} };
  if (existsSync(LAST_RUN_FILE)) {
    try {
      const prev = JSON.parse(readFileSync(LAST_RUN_FILE, "utf8")) as LastRun;
      if (prev !== null && typeof prev === "object" && typeof prev.sections === "object") doc = prev;
    } catch {
      // a broken file is replaced
    }
  }
  const at = new Date().toISOString();
  doc.seed = seed;
  doc.updatedAt = at;
  doc.node = process.version;
  doc.sections[section] = { ...figures, seed, at };
  mkdirSync(dirname(LAST_RUN_FILE), { recursive: true });
  const tmp = `${LAST_RUN_FILE}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`);
  renameSync(tmp, LAST_RUN_FILE);
  process.stderr.write(`[reliability] ${section}: ${JSON.stringify(figures)}\n`);
}
