#!/usr/bin/env node
// Writes the docs generated from @quantum/contracts (pnpm docs:reasons):
//   docs/reasons.md    entirely, from the reason-code enums and their descriptions
//   docs/contract.md   its generated sections (<!-- generated:NAME --> blocks: streams, keys, values, plan-id,
//                      reasons); the prose around them is written by hand
// `--check` exits 1 when either file is out of date. Reads packages/contracts/dist (build first).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { renderReasonDocs, renderContractSections, applyGeneratedSections } = await import(
  pathToFileURL(join(root, "packages/contracts/dist/index.js")).href
);

const read = (file) => {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
};
const docs = [
  { file: "docs/reasons.md", render: () => renderReasonDocs() },
  {
    file: "docs/contract.md",
    render: (current) => applyGeneratedSections(current, renderContractSections()),
  },
];

let stale = 0;
for (const doc of docs) {
  const out = join(root, doc.file);
  const current = read(out);
  const text = doc.render(current);
  if (process.argv.includes("--check")) {
    if (current !== text) {
      console.error(`${doc.file} is out of date: run \`pnpm docs:reasons\``);
      stale += 1;
    } else {
      console.log(`${doc.file} is up to date`);
    }
  } else if (current !== text) {
    writeFileSync(out, text);
    console.log(`wrote ${out}`);
  } else {
    console.log(`${doc.file} is up to date`);
  }
}
if (stale > 0) process.exit(1);
