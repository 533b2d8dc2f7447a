// Sums the vitest JSON reports in .test-results/ and prints one plain line: "N passed, N failed".
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2] ?? ".test-results";
const extraFailed = Number(process.argv[3] ?? 0);
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(dir)) {
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".json"))) {
    try {
      const r = JSON.parse(readFileSync(join(dir, f), "utf8"));
      passed += r.numPassedTests ?? 0;
      failed += r.numFailedTests ?? 0;
      skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
      // a suite that failed to load counts as a failure even when no test in it ran
      for (const s of r.testResults ?? []) {
        if (s.status === "failed" && (s.assertionResults ?? []).length === 0) failed += 1;
      }
    } catch {
      failed += 1;
    }
  }
}
failed += extraFailed;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
