import { REASON_TABLES, type ReasonDoc } from "./reason-docs.js";

/** Start and end markers of the generated reason tables inside docs/operations/p35-action-mapping.md. */
export const ACTION_MAPPING_BEGIN =
  "<!-- reason tables: generated from packages/contracts/src/reason-docs.ts by `pnpm docs:reasons`; do not edit by hand -->";
export const ACTION_MAPPING_END = "<!-- end of generated reason tables -->";

/** The generated docs/reasons.md text. */
export function renderReasonDocs(): string {
  const out = [
    "# Reason codes",
    "",
    "Generated from `packages/contracts/src/reason-docs.ts` by `pnpm docs:reasons`; do not edit by hand.",
    "Every reason written to a result, a permit or a metric label is one of these bounded codes;",
    "exchange error codes and free text go to `detail`.",
    "",
  ];
  for (const t of REASON_TABLES) {
    out.push(`## ${t.title}`, "", "| code | decision | meaning | what to do |", "|---|---|---|---|");
    for (const [code, d] of docsOf(t))
      out.push(`| \`${code}\` | ${d.decision} | ${d.meaning} | ${d.action} |`);
    out.push("");
  }
  return out.join("\n");
}

/** The generated reason tables of the action-mapping guide (between the markers). */
export function renderActionMappingTables(): string {
  const out = [ACTION_MAPPING_BEGIN, ""];
  for (const t of REASON_TABLES) {
    out.push(
      `### ${t.title}`,
      "",
      "| Reason | Decision | Meaning | Diagnose | Action |",
      "| --- | --- | --- | --- | --- |",
    );
    for (const [code, d] of docsOf(t)) {
      out.push(`| \`${code}\` | ${d.decision} | ${d.meaning} | ${d.diagnose} | ${d.action} |`);
    }
    out.push("");
  }
  out.push(ACTION_MAPPING_END);
  return out.join("\n");
}

/** The guide's text with its generated tables replaced by the current ones; throws without both markers. */
export function spliceActionMapping(guide: string): string {
  const begin = guide.indexOf(ACTION_MAPPING_BEGIN);
  const end = guide.indexOf(ACTION_MAPPING_END);
  if (begin < 0 || end < begin) throw new Error("the action-mapping guide has no generated-table markers");
  return guide.slice(0, begin) + renderActionMappingTables() + guide.slice(end + ACTION_MAPPING_END.length);
}

function docsOf(t: (typeof REASON_TABLES)[number]): Array<[string, ReasonDoc]> {
  return t.codes.map((code) => {
    const d = (t.docs as Readonly<Record<string, ReasonDoc>>)[code];
    if (d === undefined) throw new Error(`reason ${code} has no description`);
    return [code, d];
  });
}
