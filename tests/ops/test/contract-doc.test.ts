import {
  ALL_KNOWN_REASONS,
  applyGeneratedSections,
  computePlanId,
  groups,
  keys,
  PLAN_ID_CHECK,
  renderContractSections,
  streams,
} from "@quantum/contracts";
import { describe, expect, it } from "vitest";
import { readRepoFile } from "./helpers.js";

// docs/contract.md: hand-written prose around sections generated from @quantum/contracts.

const doc = (): string => readRepoFile("docs/contract.md");

describe("docs/contract.md", () => {
  it("its generated sections are what @quantum/contracts renders (run `pnpm docs:reasons` when it differs)", () => {
    expect(doc()).toBe(applyGeneratedSections(doc(), renderContractSections()));
  });

  it("states the plan_id check vector, computed by the services' code", () => {
    expect(computePlanId(PLAN_ID_CHECK)).toBe("ba3cbf84bf17f3a2");
    expect(doc()).toContain(
      "BTCUSDT:FULL_CLOSE_PROPOSED:0.310000:0.0:2026-02-01T06:50:00Z  ->  ba3cbf84bf17f3a2",
    );
  });

  it("names every stream, consumer group, key and reason code", () => {
    const text = doc();
    for (const s of Object.values(streams)) expect(text, s).toContain(`\`${s}\``);
    for (const g of Object.values(groups)) expect(text, g).toContain(`\`${g}\``);
    for (const [name, k] of Object.entries(keys)) {
      const rendered = typeof k === "function" ? (k as (...a: string[]) => string)("X", "Y") : k;
      const prefix = rendered.split(/[XY]/)[0] ?? rendered;
      expect(text, name).toContain(`\`${prefix}`);
    }
    for (const r of ALL_KNOWN_REASONS) expect(text, r).toContain(`\`${r}\``);
  });

  it("names only settings the services accept", () => {
    const reference = readRepoFile("docs/config-reference.md");
    const settings = doc()
      .split("## Settings that change the contract")[1]
      ?.matchAll(/`([A-Z][A-Z0-9_]+)`/g);
    const names = [...(settings ?? [])].map((m) => m[1] as string);
    expect(names.length).toBeGreaterThan(5);
    for (const n of names) expect(reference, n).toContain(`| \`${n}\` |`);
  });

  it("section replacement refuses unknown sections and sections without a block", () => {
    expect(() =>
      applyGeneratedSections("<!-- generated:nope -->\nx\n<!-- /generated:nope -->\n", {}),
    ).toThrow(/unknown generated section nope/);
    expect(() => applyGeneratedSections("no blocks\n", { keys: "k" })).toThrow(/no block .* keys/);
    expect(
      applyGeneratedSections("a\n<!-- generated:k -->\nold\n<!-- /generated:k -->\nb\n", { k: "new" }),
    ).toBe("a\n<!-- generated:k -->\nnew\n<!-- /generated:k -->\nb\n");
  });
});
