import { existsSync, readdirSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { readRepoFile, repoPath, repoRoot } from "./helpers.js";

const SECTION = "## The path of one plan";

/** The repo-relative paths of the numbered list under SECTION in architecture.md, in order. */
function planPath(markdown: string): string[] {
  const start = markdown.indexOf(SECTION);
  if (start < 0) return [];
  const body = markdown.slice(start + SECTION.length);
  const next = body.search(/^## /m);
  const section = next < 0 ? body : body.slice(0, next);
  return [...section.matchAll(/^\d+\. `([^`]+)` — /gm)].map((m) => m[1] as string);
}

const SKIP_DIRS = new Set(["node_modules", "dist", ".git", ".turbo", ".test-results"]);

/** Every file under a `src` folder of the repository (packages, services, bench, tests). */
function srcFiles(dir = repoRoot, inSrc = false): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (SKIP_DIRS.has(e.name)) return [];
    const abs = join(dir, e.name);
    if (e.isDirectory()) return srcFiles(abs, inSrc || e.name === "src");
    return inSrc ? [relative(repoRoot, abs)] : [];
  });
}

/** Listed paths whose basename is held by more than one file in the src folders. */
function ambiguous(paths: readonly string[], files: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const p of paths) {
    const same = files.filter((f) => basename(f) === basename(p));
    if (same.length !== 1) out[p] = same;
  }
  return out;
}

describe("architecture.md, the path of one plan", () => {
  const listed = planPath(readRepoFile("docs/architecture.md"));
  const files = srcFiles();

  it("lists the path from the proposal to the result", () => {
    expect(listed.length).toBeGreaterThanOrEqual(10);
    expect(listed[0]).toMatch(/intake\.ts$/);
    expect(listed.at(-1)).toMatch(/result-publisher\.ts$/);
  });

  it("names only files that exist", () => {
    expect(listed.filter((p) => !existsSync(repoPath(p)))).toEqual([]);
  });

  it("names files whose name is held by no other file", () => {
    expect(ambiguous(listed, files)).toEqual({});
  });

  it("the checks catch a missing file and a name held twice", () => {
    const doc = `${SECTION}\n\n1. \`services/apply-layer/src/nowhere.ts\` — x\n2. \`services/apply-layer/src/service.ts\` — y\n\n## Next\n\n3. \`z.ts\` — z\n`;
    const paths = planPath(doc);
    expect(paths).toEqual(["services/apply-layer/src/nowhere.ts", "services/apply-layer/src/service.ts"]);
    expect(existsSync(repoPath(paths[0] as string))).toBe(false);
    expect(Object.keys(ambiguous(paths, files))).toEqual(paths);
  });
});
