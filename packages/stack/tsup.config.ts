import { chmodSync } from "node:fs";
import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/main.ts"],
  format: ["esm"],
  target: "node20",
  dts: { entry: "src/index.ts" },
  sourcemap: true,
  clean: true,
  banner: { js: "#!/usr/bin/env node" },
  async onSuccess() {
    chmodSync("dist/main.js", 0o755);
  },
});
