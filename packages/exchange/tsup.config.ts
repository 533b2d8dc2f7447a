import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/binance.ts"],
  splitting: true,
  format: ["esm"],
  target: "node20",
  dts: true,
  sourcemap: true,
  clean: true,
});
