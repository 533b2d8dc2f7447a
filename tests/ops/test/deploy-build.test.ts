import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploy, startHealthServer, writeSystemctlStub } from "./deploy-rig.js";
import { ensureTestTools, repoPath, run } from "./helpers.js";
import { SERVICES } from "./units.js";

/**
 * A miniature copy of this monorepo: the three services and the CLI depend on a workspace package, each has a
 * real `build` script, and ops/deploy.sh plus etc/ are the real ones. deploy.sh --pack runs the real
 * pnpm install --frozen-lockfile, pnpm build and pnpm deploy --prod on it.
 */
function makeWorkspace(dir: string): void {
  const write = (rel: string, text: string) => {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  write("package.json", JSON.stringify({ name: "mini", private: true, scripts: { build: "pnpm -r build" } }));
  write("pnpm-workspace.yaml", "packages:\n  - packages/*\n  - services/*\n");
  const pkgs = [...SERVICES.map((s) => `services/${s.dir}`), "packages/cli", "packages/contracts"];
  for (const p of pkgs) {
    const name = p.split("/")[1] as string;
    const deps = name === "contracts" ? {} : { "@quantum/contracts": "workspace:*" };
    write(
      `${p}/package.json`,
      JSON.stringify({
        name: `@quantum/${name}`,
        version: "0.0.0",
        private: true,
        type: "module",
        files: ["dist"],
        exports: "./dist/main.js",
        scripts: { build: "node build.mjs" },
        dependencies: deps,
      }),
    );
    const main =
      name === "contracts"
        ? "export const name = 'contracts';\n"
        : "import { name } from '@quantum/contracts';\nconsole.log(name);\n";
    write(
      `${p}/build.mjs`,
      `import { mkdirSync, writeFileSync } from "node:fs";\nmkdirSync("dist", { recursive: true });\nwriteFileSync("dist/main.js", ${JSON.stringify(main)});\n`,
    );
  }
  mkdirSync(join(dir, "ops"), { recursive: true });
  cpSync(repoPath("ops/deploy.sh"), join(dir, "ops/deploy.sh"));
  cpSync(repoPath("etc"), join(dir, "etc"), { recursive: true });
  write("docs/README.md", "# docs\n");
}

describe("ops/deploy.sh --pack (build mode)", () => {
  let base = "";
  let closeHealth: (() => Promise<void>) | null = null;
  beforeAll(() => {
    ensureTestTools();
    base = mkdtempSync(join(tmpdir(), "quantum-pack-"));
  });
  afterAll(async () => {
    await closeHealth?.();
    rmSync(base, { recursive: true, force: true });
  });

  it("builds the workspace with pnpm into a tarball that deploys and runs", async () => {
    const ws = join(base, "ws");
    makeWorkspace(ws);
    const lock = await run("pnpm", ["install", "--reporter=silent"], { cwd: ws, timeoutMs: 120_000 });
    expect(lock.code, lock.stderr).toBe(0);

    const tarball = join(base, "release.tar.gz");
    const pack = await run("bash", [join(ws, "ops/deploy.sh"), "--pack", tarball, "--version", "m1"], {
      cwd: ws,
      timeoutMs: 120_000,
    });
    expect(pack.code, pack.stdout + pack.stderr).toBe(0);
    expect(existsSync(tarball)).toBe(true);

    const root = join(base, "root");
    mkdirSync(root);
    const stub = writeSystemctlStub(base);
    const health = await startHealthServer(root, stub.state);
    closeHealth = health.close;
    const res = await deploy(["--root", root, "--tarball", tarball], {
      SYSTEMCTL: stub.path,
      HEALTH_URLS: SERVICES.map((s) => `http://127.0.0.1:${health.port}/health/${s.dir}`).join(" "),
    });
    expect(res.code, res.stdout + res.stderr).toBe(0);

    const current = realpathSync(join(root, "opt/quantum/current"));
    expect(current).toBe(join(root, "opt/quantum/releases/m1"));
    expect(readFileSync(join(current, "VERSION"), "utf8").trim()).toBe("m1");
    expect(existsSync(join(current, "etc/systemd/system/quantum-apply-layer.service"))).toBe(true);
    // each deployed package runs with its production dependencies resolved inside the release
    for (const entry of [...SERVICES.map((s) => `services/${s.dir}`), "packages/cli"]) {
      const out = await run(process.execPath, [join(current, entry, "dist/main.js")]);
      expect({ entry, code: out.code, out: out.stdout + out.stderr }).toEqual({
        entry,
        code: 0,
        out: "contracts\n",
      });
    }
  });
});
