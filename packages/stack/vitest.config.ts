import { quantumVitestConfig } from "../../vitest.shared.ts";

// The supervisor tests start real redis-server and node processes: one file at a time.
export default quantumVitestConfig(import.meta.dirname, { timeoutMs: 60_000, fileParallelism: false });
