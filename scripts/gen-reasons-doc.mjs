#!/usr/bin/env node
// Writes docs/reasons.md from the reason-code enums and their descriptions in @quantum/contracts
// (pnpm docs:reasons). `--check` exits 1 when the file is out of date. Reads packages/contracts/dist (build first).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "docs/reasons.md");
const { renderReasonDocs } = await import(pathToFileURL(join(root, "packages/contracts/dist/index.js")).href);
const text = renderReasonDocs();
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(out, "utf8");
  } catch {}
  if (current !== text) {
    console.error("docs/reasons.md is out of date: run `pnpm docs:reasons`");
    process.exit(1);
  }
  console.log("docs/reasons.md is up to date");
} else {
  writeFileSync(out, text);
  console.log(`wrote ${out}`);
}
