import { defineConfig } from "tsup";

// Workspace packages and npm dependencies stay external: the deploy tree ships node_modules.
export default defineConfig({
  // src/config.ts too: scripts/gen-config-reference.mjs imports dist/config.js (configSchema, configAliases).
  entry: ["src/main.ts", "src/config.ts"],
  format: ["esm"],
  target: "node20",
  dts: false,
  sourcemap: true,
  clean: true,
});
