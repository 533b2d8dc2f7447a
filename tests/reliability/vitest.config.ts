import { quantumVitestConfig } from "../../vitest.shared.ts";

// Every file runs the whole system as real processes (and some stop Redis): one file at a time.
export default quantumVitestConfig(import.meta.dirname, { timeoutMs: 300_000, fileParallelism: false });
