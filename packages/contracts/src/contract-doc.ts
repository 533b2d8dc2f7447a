import { KEY_DOCS, STREAM_DOCS } from "./key-docs.js";
import { keys, streams } from "./keys.js";
import { applyPlanFields } from "./messages/apply-plan.js";
import { applyResultFields } from "./messages/apply-result.js";
import { harvestProposalFields } from "./messages/harvest-proposal.js";
import { computePlanId, planIdInput } from "./plan-id.js";
import { REASON_TABLES, type ReasonDoc } from "./reason-docs.js";
import {
  ACTIONS,
  ALERT_SEVERITIES,
  APPLY_MODES,
  DECISIONS,
  MISSING_PERMIT_KINDS,
  POSITION_SIDES,
  TRADING_STATES,
} from "./reasons.js";

/**
 * The generated sections of docs/contract.md. The prose around them is written by hand; each section sits
 * between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` and is replaced by
 * `applyGeneratedSections` (`pnpm docs:reasons` writes the file; a test fails while it differs).
 */

const HOLE = "\u0000";
const template = (k: string | ((...a: string[]) => string)): string =>
  typeof k === "function" ? k(HOLE, HOLE) : k;
const holes = (key: string): string => key.replace(/<[^<>]+>/g, HOLE);
const cell = (text: string): string => text.replace(/\|/g, "\\|");
const code = (items: readonly string[]): string => items.map((i) => `\`${i}\``).join(", ");

function streamsSection(): string {
  const codecFields: Record<string, readonly string[]> = {
    [streams.applyPlan]: [...Object.values(applyPlanFields), "source", "v"],
    [streams.applyResult]: [...Object.values(applyResultFields), "source", "v"],
    // the calibrated action, the hedge-mode leg and the operator marker are read next to the codec's fields
    [streams.harvestProposal]: [
      ...new Set([...Object.values(harvestProposalFields), "action", "position_side", "source"]),
    ],
  };
  const keyStreams = Object.values(keys).flatMap((k): string[] =>
    typeof k === "string" && isStreamName(k) ? [k] : [],
  );
  const names: string[] = [...new Set<string>([...Object.values(streams), ...keyStreams])];
  const rows = names.map((name) => {
    const doc = STREAM_DOCS[name];
    if (doc === undefined) throw new Error(`stream ${name} has no description in contract-doc.ts`);
    const fields = codecFields[name] ?? doc.fields ?? [];
    return `| \`${name}\` | ${cell(doc.writer)} | ${cell(doc.readers)} | ${code(fields)} |`;
  });
  return ["| Stream | Written by | Read by | Entry fields |", "|---|---|---|---|", ...rows].join("\n");
}

/** A keys.ts entry that is a stream documented with the streams (the audit stream lives next to the keys). */
function isStreamName(k: unknown): boolean {
  return typeof k === "string" && STREAM_DOCS[k] !== undefined;
}

function keysSection(): string {
  const rows: string[] = [];
  for (const [name, k] of Object.entries(keys)) {
    const t = template(k as string | ((...a: string[]) => string));
    if (isStreamName(t)) continue;
    const doc = KEY_DOCS.find((d) => holes(d.key) === t);
    if (doc === undefined)
      throw new Error(`key ${name} (${t.replaceAll(HOLE, "<…>")}) has no description in contract-doc.ts`);
    rows.push(`| \`${doc.key}\` | ${cell(doc.type)} | ${cell(doc.writer)} | ${cell(doc.meaning)} |`);
  }
  return ["| Key | Type | Written by | Meaning |", "|---|---|---|---|", ...rows].join("\n");
}

function valuesSection(): string {
  return [
    `- Proposal actions: ${code(ACTIONS)}.`,
    `- Plan and result decisions: ${code(DECISIONS)}.`,
    `- Missing-permit suffixes of \`permit_timeout_or_missing:<kind>\`: ${code(MISSING_PERMIT_KINDS)}.`,
    `- Trading states: ${code(TRADING_STATES)}.`,
    `- Modes (\`mode\` of a result, \`APPLY_MODE\`): ${code(APPLY_MODES)}.`,
    `- Snapshot sides: ${code(POSITION_SIDES)}.`,
    `- P3.5 alert severities: ${code(ALERT_SEVERITIES)}.`,
  ].join("\n");
}

/** The check vector of the plan_id rule, computed by the code the services use. */
export const PLAN_ID_CHECK = {
  symbol: "BTCUSDT",
  action: "FULL_CLOSE_PROPOSED",
  killScore: 0.31,
  newSlProposed: 0,
  computedAtUtc: "2026-02-01T06:50:00Z",
} as const;

function planIdSection(): string {
  return [
    "```",
    `${planIdInput(PLAN_ID_CHECK)}  ->  ${computePlanId(PLAN_ID_CHECK)}`,
    `${planIdInput({ ...PLAN_ID_CHECK, newSlProposed: null })}  ->  ${computePlanId({ ...PLAN_ID_CHECK, newSlProposed: null })}`,
    `${planIdInput({ ...PLAN_ID_CHECK, action: "UPDATE_SL", newSlProposed: 41000 })}  ->  ${computePlanId({ ...PLAN_ID_CHECK, action: "UPDATE_SL", newSlProposed: 41000 })}`,
    "```",
  ].join("\n");
}

function reasonsSection(): string {
  const out: string[] = [];
  for (const t of REASON_TABLES) {
    out.push(`**${t.title}**`, "", "| Code | Decision | Meaning |", "|---|---|---|");
    for (const c of t.codes) {
      const d = (t.docs as Readonly<Record<string, ReasonDoc>>)[c];
      if (d === undefined) throw new Error(`reason ${c} has no description`);
      out.push(`| \`${c}\` | ${d.decision} | ${d.meaning} |`);
    }
    out.push("");
  }
  return out.join("\n").trimEnd();
}

/** Every generated section of docs/contract.md by name. */
export function renderContractSections(): Record<string, string> {
  return {
    streams: streamsSection(),
    keys: keysSection(),
    values: valuesSection(),
    "plan-id": planIdSection(),
    reasons: reasonsSection(),
  };
}

/**
 * Replace each `<!-- generated:NAME -->…<!-- /generated:NAME -->` block of `markdown` with its section.
 * Throws when a block names an unknown section or a section has no block, so neither can silently go missing.
 */
export function applyGeneratedSections(markdown: string, sections: Readonly<Record<string, string>>): string {
  const seen = new Set<string>();
  const out = markdown.replace(
    /<!-- generated:([a-z-]+) -->\n[\s\S]*?<!-- \/generated:\1 -->/g,
    (_m, name: string) => {
      const body = sections[name];
      if (body === undefined) throw new Error(`unknown generated section ${name}`);
      seen.add(name);
      return `<!-- generated:${name} -->\n${body}\n<!-- /generated:${name} -->`;
    },
  );
  const missing = Object.keys(sections).filter((n) => !seen.has(n));
  if (missing.length > 0) throw new Error(`no block for generated section(s): ${missing.join(", ")}`);
  return out;
}
