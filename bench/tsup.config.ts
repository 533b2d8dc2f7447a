import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/main.ts", "src/floor-consumer.ts"],
  format: ["esm"],
  target: "node20",
  dts: false,
  sourcemap: true,
  clean: true,
});
