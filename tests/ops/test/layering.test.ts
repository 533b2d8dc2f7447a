import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRepoFile, repoPath, run } from "./helpers.js";

// The layering check of `pnpm lint` (dependency-cruiser with .dependency-cruiser.mjs), run with the repository's
// own configuration and arguments on a small workspace in a temp directory, so a rule that stops firing fails here.

const DEPCRUISE = repoPath("node_modules/dependency-cruiser/bin/dependency-cruise.mjs");
const CONFIG_FILES = [".dependency-cruiser.mjs", "tsconfig.depcruise.json", "tsconfig.base.json"];

/** The arguments of the root `lint:layers` script, the command `pnpm lint` runs after Biome. */
function lintLayersArgs(): string[] {
  const script: string = JSON.parse(readRepoFile("package.json")).scripts["lint:layers"];
  const [command, ...args] = script.split(/\s+/);
  expect(command).toBe("depcruise");
  return args;
}

/** A workspace that keeps the rules: a service on two packages, a test reaching into a service. */
const CLEAN: Record<string, string> = {
  "packages/contracts/package.json": '{ "name": "@quantum/contracts" }',
  "packages/contracts/src/index.ts": "export const limit = 1;\n",
  "packages/runtime/package.json": '{ "name": "@quantum/runtime" }',
  "packages/runtime/src/index.ts":
    'import { limit } from "@quantum/contracts";\nexport const twice = limit * 2;\n',
  "services/apply-layer/package.json": '{ "name": "@quantum/apply-layer" }',
  "services/apply-layer/src/main.ts":
    'import { twice } from "@quantum/runtime";\nimport { half } from "./half.js";\nexport const run = twice + half;\n',
  "services/apply-layer/src/half.ts": "export const half = 0.5;\n",
  "tests/e2e/test/flow.test.ts":
    'import { run } from "@quantum/apply-layer";\nimport { half } from "../../../services/apply-layer/src/half.js";\nexport const both = run + half;\n',
  "bench/src/main.ts": 'import { run } from "@quantum/apply-layer";\nexport const once = run;\n',
};

/** One file per rule that breaks it. */
const BREAKS: Record<string, string> = {
  "packages/runtime/src/by-name.ts":
    'import { run } from "@quantum/apply-layer";\nexport const viaName = run;\n',
  "packages/runtime/src/by-path.ts":
    'import { half } from "../../../services/apply-layer/src/half.js";\nexport const viaPath = half;\n',
  "packages/contracts/src/upward.ts": 'import { twice } from "@quantum/runtime";\nexport const up = twice;\n',
  "packages/runtime/src/lost.ts": 'import { gone } from "./nowhere.js";\nexport const lost = gone;\n',
  "packages/runtime/src/ping.ts":
    'import { pong } from "./pong.js";\nexport const ping = (): number => pong() + 1;\n',
  "packages/runtime/src/pong.ts":
    'import { ping } from "./ping.js";\nexport const pong = (): number => ping() - 1;\n',
};

interface Cruise {
  code: number;
  output: string;
}

const dirs: string[] = [];
let clean: Cruise;
let broken: Cruise;

/** Write `files` and the check's configuration into a temp directory and run the lint arguments there. */
async function cruise(files: Record<string, string>): Promise<Cruise> {
  const dir = mkdtempSync(join(tmpdir(), "layering-"));
  dirs.push(dir);
  for (const name of CONFIG_FILES) copyFileSync(repoPath(name), join(dir, name));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const result = await run(process.execPath, [DEPCRUISE, ...lintLayersArgs()], {
    cwd: dir,
    timeoutMs: 30_000,
  });
  return { code: result.code, output: result.stdout + result.stderr };
}

// Both workspaces are checked at once: the time is mostly Node loading the checker.
beforeAll(async () => {
  [clean, broken] = await Promise.all([cruise(CLEAN), cruise({ ...CLEAN, ...BREAKS })]);
}, 60_000);
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("layering check (pnpm lint)", () => {
  it("passes a workspace where services use packages and tests and bench import anything", () => {
    const { code, output } = clean;
    expect(output).toContain("no dependency violations found");
    expect(code).toBe(0);
  });

  it("fails naming the rule and file for each break: package imports a service, contracts imports upward, cycle, unresolvable import", () => {
    const { code, output } = broken;
    expect(code).not.toBe(0);
    expect(output).toMatch(
      /package-imports-service: packages\/runtime\/src\/by-name\.ts → services\/apply-layer/,
    );
    expect(output).toMatch(
      /package-imports-service: packages\/runtime\/src\/by-path\.ts → services\/apply-layer/,
    );
    expect(output).toMatch(
      /contracts-imports-workspace: packages\/contracts\/src\/upward\.ts → packages\/runtime/,
    );
    expect(output).toMatch(/no-cycle: packages\/runtime\/src\/(ping|pong)\.ts → /);
    expect(output).toMatch(/not-resolvable: packages\/runtime\/src\/lost\.ts → \.\/nowhere\.js/);
  });
});
