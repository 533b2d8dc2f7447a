import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/governor-main.ts", "src/feeder-main.ts"],
  format: ["esm"],
  target: "node20",
  dts: { entry: "src/index.ts" },
  sourcemap: true,
  clean: true,
});
