import { readFileSync } from "node:fs";
import { join } from "node:path";
import { APPLY_REASONS, P33_DENY_REASONS, renderReasonDocs } from "@quantum/contracts";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..", "..");

describe("docs/reasons.md", () => {
  it("is exactly what the generator renders from the enums (run `pnpm docs:reasons` when it differs)", () => {
    expect(readFileSync(join(root, "docs/reasons.md"), "utf8")).toBe(renderReasonDocs());
  });

  it("has a row for every Apply and P3.3 reason code", () => {
    const text = renderReasonDocs();
    for (const code of [...APPLY_REASONS, ...P33_DENY_REASONS]) expect(text).toContain(`| \`${code}\` |`);
  });
});
