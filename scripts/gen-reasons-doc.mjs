#!/usr/bin/env node
// Writes the docs generated from @quantum/contracts (pnpm docs:reasons):
//   docs/reasons.md                         entirely, from the reason-code enums and their records
//   docs/operations/p35-action-mapping.md   its reason tables (between markers)
//   docs/contract.md                        its generated sections (<!-- generated:NAME --> blocks: streams, keys,
//                                           values, plan-id, reasons); the prose around them is written by hand
// `--check` exits 1 when any is out of date. Reads packages/contracts/dist (build first).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { renderReasonDocs, spliceActionMapping, renderContractSections, applyGeneratedSections } =
  await import(pathToFileURL(join(root, "packages/contracts/dist/index.js")).href);
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
  {
    path: join(root, "docs/contract.md"),
    render: (current) => applyGeneratedSections(current, renderContractSections()),
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
