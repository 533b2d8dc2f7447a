// Layering rules for the workspace, checked by `pnpm lint` (dependency-cruiser).
//
//   services/*  may import packages/*;  packages/* never import a service;
//   packages/contracts imports no workspace package;  no module-level import cycles anywhere;
//   tests/* and bench/ may import anything (but still no cycles).
//
// Workspace imports (`@quantum/<name>`) resolve to their TypeScript sources through tsconfig.depcruise.json,
// so the check needs no build and sees cycles that run across workspaces. The service names are read from
// services/*/package.json, so a new service is covered without editing this file.

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const serviceNames = readdirSync(join(root, "services"), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => JSON.parse(readFileSync(join(root, "services", entry.name, "package.json"), "utf8")).name)
  .map((name) => name.replace(/[/.]/g, "\\$&"));

// An import that could not be resolved keeps its specifier as the path, so a package naming a service it does
// not list as a dependency is caught by name as well as by resolved location.
const servicePaths = ["^services/", `^(${serviceNames.join("|")})(/|$)`];

/** @type {import("dependency-cruiser").IConfiguration} */
export default {
  forbidden: [
    {
      name: "package-imports-service",
      comment: "Packages are the lower layer: services build on them, never the other way round.",
      severity: "error",
      from: { path: "^packages/" },
      to: { path: servicePaths },
    },
    {
      name: "contracts-imports-workspace",
      comment: "packages/contracts is the bottom layer: it imports no other workspace package.",
      severity: "error",
      from: { path: "^packages/contracts/" },
      to: { path: ["^(packages|services|tests|bench)/", "^@quantum/"], pathNot: "^packages/contracts/" },
    },
    {
      name: "no-cycle",
      comment: "Module-level import cycles, within a workspace or across workspaces.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "not-resolvable",
      comment: "An import the checker cannot resolve cannot be checked against the rules above.",
      severity: "error",
      from: { path: "^(packages|services|tests|bench)/" },
      to: { couldNotResolve: true, dependencyTypesNot: ["type-only"] },
    },
  ],
  options: {
    doNotFollow: { path: "(^|/)node_modules/" },
    exclude: { path: "(^|/)(node_modules|dist|\\.turbo|\\.test-results)/|^bench/results/" },
    tsConfig: { fileName: "tsconfig.depcruise.json" },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "types", "default"],
      extensions: [".ts", ".mts", ".js", ".mjs", ".json"],
    },
    skipAnalysisNotInRules: true,
    cache: false,
  },
};
