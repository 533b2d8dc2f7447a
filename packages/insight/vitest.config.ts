import { quantumVitestConfig } from "../../vitest.shared.ts";

export default quantumVitestConfig(import.meta.dirname);
