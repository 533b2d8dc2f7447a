import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ConfigReferenceGenerator,
  GENERATOR_PATH,
  loadGenerator,
  serviceConfigs,
} from "./config-schemas.js";
import { readRepoFile, repoPath, run } from "./helpers.js";
import { SERVICES } from "./units.js";

const REFERENCE = "docs/config-reference.md";

describe("docs/config-reference.md (generated from the zod schemas)", () => {
  let gen: ConfigReferenceGenerator;
  let scratch = "";
  beforeAll(async () => {
    gen = await loadGenerator();
    scratch = mkdtempSync(join(tmpdir(), "quantum-cfgref-"));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("covers the three services of units.ts, in the same code directories", () => {
    expect(gen.SERVICES.map((s) => [s.dir, s.unit])).toEqual(SERVICES.map((s) => [s.dir, s.unit]));
    expect(gen.SERVICES.map((s) => s.envFile)).toEqual(SERVICES.map((s) => `/etc/quantum/${s.env}.env`));
  });

  it("is exactly what the generator produces from the services' schemas now", async () => {
    const fresh = gen.renderConfigReference(await serviceConfigs());
    const file = readRepoFile(REFERENCE);
    // The summary names the differing lines; regenerate with `pnpm docs:config`.
    expect(gen.diffSummary(fresh, file), "docs/config-reference.md is stale: run pnpm docs:config").toBe("");
    expect(file).toBe(fresh);
  });

  it("has one row per schema variable with its default and aliases", async () => {
    const file = readRepoFile(REFERENCE);
    for (const s of await serviceConfigs()) {
      const section = file.split(`\n## ${s.title}\n`)[1]?.split("\n## ")[0] ?? "";
      expect(section, s.title).not.toBe("");
      const rows = section.split("\n").filter((l) => l.startsWith("| `"));
      expect(rows.map((r) => /^\| `([A-Z0-9_]+)`/.exec(r)?.[1])).toEqual(s.vars.map((v) => v.name));
      for (const v of s.vars) {
        const row = rows.find((r) => r.startsWith(`| \`${v.name}\` |`)) ?? "";
        if (v.default !== undefined) expect(row, v.name).toContain(`| \`${v.default}\` |`);
        for (const a of v.aliases) expect(row, `${v.name} alias ${a}`).toContain(`\`${a}\``);
      }
    }
  });

  it("documents the accepted alias names (APPLY_METRICS_PORT, QUANTUM_REDIS_*, APPLY_ALLOWLIST for P3.3)", async () => {
    const byDir = Object.fromEntries((await serviceConfigs()).map((s) => [s.dir, s]));
    const aliasesOf = (dir: string, name: string) =>
      byDir[dir]?.vars.find((v) => v.name === name)?.aliases ?? [];
    expect(aliasesOf("apply-layer", "PROMETHEUS_PORT")).toContain("APPLY_METRICS_PORT");
    expect(aliasesOf("position-state-brain", "P33_ALLOWLIST")).toContain("APPLY_ALLOWLIST");
    for (const s of SERVICES) {
      for (const v of ["HOST", "PORT", "DB"]) {
        expect(aliasesOf(s.dir, `REDIS_${v}`), s.dir).toContain(`QUANTUM_REDIS_${v}`);
      }
    }
  });

  it("the diff catches a changed default, a missing row and an extra line", async () => {
    const fresh = gen.renderConfigReference(await serviceConfigs());
    const lines = fresh.split("\n");
    const row = lines.findIndex((l) => l.startsWith("| `APPLY_PERMIT_WAIT_MS` |"));
    expect(row).toBeGreaterThan(0);
    const stale = [...lines];
    stale[row] = (stale[row] as string).replace("`1200`", "`1000`");
    stale.splice(row + 1, 1);
    stale.push("| `OLD_VARIABLE` | `1` | — | gone |");
    const summary = gen.diffSummary(fresh, stale.join("\n"));
    expect(summary).toContain("APPLY_PERMIT_WAIT_MS` | `1200`");
    expect(summary).toContain("APPLY_PERMIT_WAIT_MS` | `1000`");
    expect(summary).toContain((lines[row + 1] as string).slice(0, 40));
    expect(summary).toContain("OLD_VARIABLE");
  });

  it("--check exits 0 when up to date and 1 with a diff summary when not", async () => {
    const ok = await run(process.execPath, [GENERATOR_PATH, "--check"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("up to date");

    const stalePath = join(scratch, "stale.md");
    writeFileSync(
      stalePath,
      readRepoFile(REFERENCE).replace("| `P35_BATCH_SIZE` | `500` |", "| `P35_BATCH_SIZE` | `50` |"),
    );
    const bad = await run(process.execPath, [GENERATOR_PATH, "--check", "--out", stalePath]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("out of date; run pnpm docs:config");
    expect(bad.stderr).toContain("| `P35_BATCH_SIZE` | `500` |");
    expect(bad.stderr).toContain("| `P35_BATCH_SIZE` | `50` |");
  });

  it("writes the file with --out, byte-identical to the committed one", async () => {
    const out = join(scratch, "written.md");
    const r = await run(process.execPath, [GENERATOR_PATH, "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(readRepoFile(REFERENCE));
  });

  it("fails with a clear message when a service's dist/config.js lacks configSchema or is missing", async () => {
    const services = join(scratch, "services");
    for (const s of SERVICES) mkdirSync(join(services, s.dir, "dist"), { recursive: true });
    // Two good services (copies of the real builds would need their node_modules: re-export them instead).
    for (const s of SERVICES.slice(1)) {
      writeFileSync(
        join(services, s.dir, "dist/config.js"),
        `export * from ${JSON.stringify(repoPath("services", s.dir, "dist/config.js"))};\n`,
      );
    }
    writeFileSync(join(services, "apply-layer/dist/config.js"), "export const applyEnvSchema = {};\n");
    const noSchema = await run(process.execPath, [GENERATOR_PATH, "--check", "--services-dir", services]);
    expect(noSchema.code).toBe(2);
    expect(noSchema.stderr).toContain("apply-layer/dist/config.js does not export configSchema");

    writeFileSync(
      join(services, "apply-layer/dist/config.js"),
      `export { configSchema } from ${JSON.stringify(repoPath("services/decision-intelligence/dist/config.js"))};\n`,
    );
    const noAliases = await run(process.execPath, [GENERATOR_PATH, "--check", "--services-dir", services]);
    expect(noAliases.code).toBe(2);
    expect(noAliases.stderr).toContain("apply-layer/dist/config.js does not export configAliases");

    rmSync(join(services, "apply-layer/dist/config.js"));
    const missing = await run(process.execPath, [GENERATOR_PATH, "--check", "--services-dir", services]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("apply-layer/dist/config.js is missing");
    expect(missing.stderr).toContain('"src/config.ts" in its entry list');
  });

  it("the root package.json has the docs:config script", () => {
    const pkg = JSON.parse(readRepoFile("package.json")) as { scripts: Record<string, string> };
    expect(pkg.scripts["docs:config"]).toBe("node scripts/gen-config-reference.mjs");
  });
});
