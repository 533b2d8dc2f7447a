import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// docs/reliability.md names, for every promise, the test that proves it: those tests must exist, and every
// test file of this suite must prove at least one row.

const DOC = fileURLToPath(new URL("../../../docs/reliability.md", import.meta.url));
const TEST_DIR = fileURLToPath(new URL(".", import.meta.url));

/** Test names declared in a file; template literals become patterns (`${x}` matches anything). */
function declaredTests(file: string): RegExp[] {
  const src = readFileSync(`${TEST_DIR}${file}`, "utf8");
  const out: RegExp[] = [];
  for (const m of src.matchAll(/\bit\(\s*(["'`])((?:\\.|(?!\1)[\s\S])*)\1/g)) {
    const raw = (m[2] as string).replace(/\s*\n\s*/g, " ");
    const parts = raw.split(/\$\{[^}]*\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    out.push(new RegExp(`^${parts.join(".+?")}$`));
  }
  return out;
}

/** Rows of the "Promises and proofs" table as [fault, promise, proof, figures]. */
function proofRows(): string[][] {
  const text = readFileSync(DOC, "utf8");
  const section = text.split("## Promises and proofs")[1]?.split("\n## ")[0] ?? "";
  return section
    .split("\n")
    .filter((l) => l.startsWith("| ") && !/^\|\s*Fault\s/.test(l) && !/^\|\s*-+\s*\|/.test(l))
    .map((l) =>
      l
        .slice(1, -1)
        .split(" | ")
        .map((c) => c.trim()),
    );
}

describe("docs/reliability.md", () => {
  it("every row names a test of this suite that exists, with last-run figures", () => {
    expect(existsSync(DOC)).toBe(true);
    const rows = proofRows();
    expect(rows.length).toBeGreaterThanOrEqual(15);
    for (const row of rows) {
      expect(row, row[0]).toHaveLength(4);
      const proof = row[2] as string;
      const m = /^`([a-z-]+\.test\.ts)` › (.+)$/.exec(proof);
      expect(m, `proof cell of "${row[0]}": ${proof}`).not.toBeNull();
      const [, file, names] = m as RegExpExecArray;
      expect(existsSync(`${TEST_DIR}${file}`), file).toBe(true);
      const declared = declaredTests(file as string);
      for (const name of (names as string).split(" · ")) {
        expect(
          declared.some((re) => re.test(name)),
          `${file} has no test named "${name}"`,
        ).toBe(true);
      }
      expect((row[3] as string).length, `figures of "${row[0]}"`).toBeGreaterThan(0);
    }
  });

  it("every test file of the suite proves at least one row", () => {
    const proofs = proofRows().map((r) => r[2] as string);
    const files = readdirSync(TEST_DIR).filter((f) => f.endsWith(".test.ts") && f !== "docs.test.ts");
    for (const f of files)
      expect(
        proofs.some((p) => p.startsWith(`\`${f}\``)),
        f,
      ).toBe(true);
  });
});
