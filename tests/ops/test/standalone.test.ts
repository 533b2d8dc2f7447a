import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { repoPath, repoRoot } from "./helpers.js";

// The repository stands on its own: no tracked file points at a specification or notes kept outside it, and
// the README and docs link only to files inside it.

/** Tracked text files (binary and lock files left out). */
function trackedFiles(): string[] {
  const out = execFileSync("git", ["ls-files", "-z"], { cwd: repoRoot, encoding: "utf8" });
  return out
    .split("\0")
    .filter((f) => f !== "" && !/(^|\/)pnpm-lock\.yaml$|\.(png|jpe?g|gif|ico|woff2?|gz|tgz)$/.test(f))
    .filter((f) => existsSync(repoPath(f)));
}

/** Words around a `the seed` that show a random-number seed is meant (allowed). */
const RNG_CONTEXT =
  /RELIABILITY_SEED|FEEDER_SEED|\brng\b|random|replay|fast-check|schedule|deterministic|mulberry|seed N\b|seed \d{4,}/i;

interface Finding {
  line: number;
  text: string;
  rule: string;
}

/** Rules for text that points outside the repository. */
const RULES: Array<{ rule: string; re: RegExp }> = [
  { rule: "names the specification", re: /\bSPEC\b|SPEC\.md|\bspec(ification)? §|§\s*\d/ },
  { rule: "links to ../shared", re: /\.\.\/shared\b/ },
  { rule: "names a seed document", re: /\bseed[ -]?0\d\d\b/i },
  {
    rule: "names a seed document",
    re: /\bseed(s|'s)? (roadmap|panels?|baseline|log|names?|compatibility|quer(y|ies)|guides?|action guide|dashboards?|docs?)\b/i,
  },
  { rule: "names the seeds", re: /\bthe seeds\b|\bthe seed's\b/i },
  { rule: "names the predecessor", re: /\b(the )?predecessor('s)?\b/i },
];

/** Every line of `text` that breaks a rule; `the seed` counts unless a random-number seed is meant nearby. */
export function findOutsideReferences(text: string): Finding[] {
  const lines = text.split("\n");
  const found: Finding[] = [];
  lines.forEach((line, i) => {
    const broken = RULES.filter(({ re }) => re.test(line)).map(({ rule }) => rule);
    if (
      /\bthe seed\b/i.test(line) ||
      (/\bthe$/i.test(line.trim()) && /^\s*seed\b/i.test(lines[i + 1] ?? ""))
    ) {
      const around = lines.slice(Math.max(0, i - 1), i + 2).join(" ");
      if (!RNG_CONTEXT.test(around)) broken.push("names the seed");
    }
    if (broken.length > 0)
      found.push({ line: i + 1, text: line.trim(), rule: [...new Set(broken)].join(", ") });
  });
  return found;
}

/** This file states the rules, so it is the one file allowed to contain the words. */
const SELF = relative(repoRoot, import.meta.filename);

describe("the repository stands on its own", () => {
  it("the rules catch references outside the repository and allow random-number seeds", () => {
    for (const bad of [
      "The contract is `../shared/SPEC.md`.",
      "See SPEC §3.1 for the keys.",
      "as section §9 says",
      "Dashboard queries (seed 004, with correct semantics)",
      "writes the seed roadmap schema",
      "Seed panel 1 on the real metrics",
      "Healthy share (seed baseline)",
      "(the seed's old advice)",
      "kept from the seeds",
      "Do not edit it by hand (the seed says so).",
      "The predecessor ran P3.3 as root.",
      "the predecessor's hotfix",
    ]) {
      expect(findOutsideReferences(bad), bad).not.toEqual([]);
    }
    for (const good of [
      "RELIABILITY_SEED=7 pnpm --filter @quantum/tests-reliability test   # replay another seed",
      "fc.assert(prop, { seed: 42, numRuns: 200 })",
      'FEEDER_SEED: envInt({ min: 0 }).optional().describe("Random seed (replayable runs)")',
      "Without `RELIABILITY_SEED` the\nseed is `20260201`, so CI runs are reproducible.",
      "The seed decides the crash schedule (which process, after how long).",
      "Figures: last run, seed 20260201, Node 20.20.2.",
      'it("is deterministic for a seed", () => {',
      "Seed flat paper positions, move the marks.",
      "const spec = specs[name]; // LuaScriptSpec",
    ]) {
      expect(findOutsideReferences(good), good).toEqual([]);
    }
  });

  it("no tracked file names the specification, its sections, ../shared, the seeds or the predecessor", () => {
    const problems: string[] = [];
    for (const file of trackedFiles()) {
      if (file === SELF) continue;
      const text = readFileSync(repoPath(file), "utf8");
      if (text.includes("\0")) continue;
      for (const f of findOutsideReferences(text)) problems.push(`${file}:${f.line}: ${f.rule}: ${f.text}`);
    }
    expect(problems).toEqual([]);
  });

  it("README and docs link only to files inside the repository, and every relative link resolves", () => {
    const docs = trackedFiles().filter(
      (f) => f.endsWith(".md") && (f.startsWith("docs/") || /(^|\/)README\.md$/.test(f)),
    );
    expect(docs).toContain("README.md");
    expect(docs).toContain("docs/contract.md");
    const problems: string[] = [];
    for (const file of docs) {
      const text = readFileSync(repoPath(file), "utf8");
      const withoutCode = text.replace(/```[\s\S]*?```/g, "");
      for (const m of withoutCode.matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = m[1] as string;
        if (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith("#")) continue;
        const path = link.split("#")[0] as string;
        const target = resolve(dirname(repoPath(file)), path);
        if (relative(repoRoot, target).startsWith("..") || path.startsWith("/")) {
          problems.push(`${file}: ${link} leaves the repository`);
        } else if (!existsSync(target)) {
          problems.push(`${file}: ${link} does not exist`);
        }
      }
      for (const m of text.matchAll(/(^|[\s`(])((\.\.\/)+[\w./-]+)/g)) {
        const target = resolve(dirname(repoPath(file)), m[2] as string);
        if (relative(repoRoot, target).startsWith(".."))
          problems.push(`${file}: names ${m[2]} outside the repository`);
      }
      if (/\/work\/|\/home\/[a-z]/.test(text)) problems.push(`${file}: names a path of one machine`);
    }
    expect(problems).toEqual([]);
  });

  it("the link check resolves paths against the file's own directory", () => {
    const from = join(repoRoot, "docs/operations");
    expect(relative(repoRoot, resolve(from, "../../README.md"))).toBe("README.md");
    expect(relative(repoRoot, resolve(from, "../../../shared/SPEC.md")).startsWith("..")).toBe(true);
  });
});
