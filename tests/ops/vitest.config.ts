import { quantumVitestConfig } from "../../vitest.shared.ts";

// The files share host tools (systemd-analyze, promtool) and spawn bash scripts: run them one at a time.
export default quantumVitestConfig(import.meta.dirname, { fileParallelism: false });
