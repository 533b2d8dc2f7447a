import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  APPLY_REASONS,
  P33_DENY_REASONS,
  reasonDoc,
  renderActionMappingTables,
  renderReasonDocs,
  spliceActionMapping,
} from "@quantum/contracts";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..", "..");
const guidePath = join(root, "docs/operations/p35-action-mapping.md");

describe("docs/reasons.md", () => {
  it("is exactly what the generator renders from the enums (run `pnpm docs:reasons` when it differs)", () => {
    expect(readFileSync(join(root, "docs/reasons.md"), "utf8")).toBe(renderReasonDocs());
  });

  it("has a row for every Apply and P3.3 reason code", () => {
    const text = renderReasonDocs();
    for (const code of [...APPLY_REASONS, ...P33_DENY_REASONS]) expect(text).toContain(`| \`${code}\` |`);
  });
});

describe("docs/operations/p35-action-mapping.md", () => {
  it("holds the reason tables exactly as generated from the one action table (`pnpm docs:reasons`)", () => {
    const guide = readFileSync(guidePath, "utf8");
    expect(guide).toContain(renderActionMappingTables());
    expect(spliceActionMapping(guide)).toBe(guide);
  });

  it("gives every code the action the page shows, with the symbol filled in", () => {
    const guide = readFileSync(guidePath, "utf8");
    for (const code of [...APPLY_REASONS, ...P33_DENY_REASONS]) {
      const doc = reasonDoc(code);
      expect(doc, code).not.toBeNull();
      expect(guide).toContain(`| ${doc?.action} |`);
    }
    expect(reasonDoc("reconcile_hold_active", "SOLUSDT")?.action).toContain("quantum:reconcile:hold:SOLUSDT");
    expect(reasonDoc("no_such_reason")).toBeNull();
  });
});
