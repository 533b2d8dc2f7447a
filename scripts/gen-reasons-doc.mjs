#!/usr/bin/env node
// Writes docs/reasons.md and the reason tables of docs/operations/p35-action-mapping.md from the reason-code
// enums and their records in @quantum/contracts (pnpm docs:reasons). `--check` exits 1 when either is out of
// date. Reads packages/contracts/dist (build first).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { renderReasonDocs, spliceActionMapping } = await import(
  pathToFileURL(join(root, "packages/contracts/dist/index.js")).href
);
const read = (path) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
};
const targets = [
  { path: join(root, "docs/reasons.md"), render: () => renderReasonDocs() },
  {
    path: join(root, "docs/operations/p35-action-mapping.md"),
    render: (current) => spliceActionMapping(current),
  },
];
let stale = 0;
for (const t of targets) {
  const current = read(t.path);
  const text = t.render(current);
  if (process.argv.includes("--check")) {
    if (current !== text) {
      console.error(`${t.path} is out of date: run \`pnpm docs:reasons\``);
      stale++;
    } else console.log(`${t.path} is up to date`);
  } else {
    writeFileSync(t.path, text);
    console.log(`wrote ${t.path}`);
  }
}
process.exit(stale > 0 ? 1 : 0);
