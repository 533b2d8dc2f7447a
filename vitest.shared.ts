import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = dirname(fileURLToPath(import.meta.url));

/**
 * One vitest config for every workspace package. Besides the usual console report it writes a JSON report
 * to `.test-results/<package>.json` at the repo root, which `.ci/run` sums into its closing line.
 */
export function quantumVitestConfig(
  packageDir: string,
  opts: { timeoutMs?: number; fileParallelism?: boolean } = {},
) {
  const name = basename(packageDir);
  const group = basename(dirname(packageDir));
  const resultsDir = process.env.QUANTUM_TEST_RESULTS ?? join(root, ".test-results");
  return defineConfig({
    test: {
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      testTimeout: opts.timeoutMs ?? 30_000,
      hookTimeout: 60_000,
      fileParallelism: opts.fileParallelism ?? true,
      reporters: ["default", "json"],
      outputFile: { json: join(resultsDir, `${group}-${name}.json`) },
    },
  });
}
