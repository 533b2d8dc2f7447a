import { defineConfig } from "tsup";

// Workspace packages and npm dependencies stay external: the deploy tree ships node_modules.
export default defineConfig({
  entry: ["src/main.ts"],
  format: ["esm"],
  target: "node20",
  dts: false,
  sourcemap: true,
  clean: true,
});
