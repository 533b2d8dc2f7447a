import { quantumVitestConfig } from "../../vitest.shared.ts";

// Each file runs the whole stack (real processes): one file at a time.
export default quantumVitestConfig(import.meta.dirname, { timeoutMs: 120_000, fileParallelism: false });
