import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  deploy,
  FAKE_INVALID,
  makeSourceTree,
  startHealthServer,
  stubCalls,
  writeSystemctlStub,
} from "./deploy-rig.js";
import { ensureTestTools, readRepoFile, run, treeSnapshot } from "./helpers.js";
import { SERVICES, TARGET } from "./units.js";

const ENV_FILES = SERVICES.map((s) => `etc/quantum/${s.env}.env`);
const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);
/** systemctl calls that change something (is-active / is-enabled only read). */
const writes = (calls: string[]): string[] => calls.filter((c) => !c.startsWith("is-"));

describe("ops/deploy.sh", () => {
  let base = "";
  let n = 0;
  const closers: Array<() => Promise<void>> = [];

  /** A fresh root, systemctl stub and health server; `env` runs deploy.sh against them. */
  async function rig() {
    n += 1;
    const dir = join(base, `rig${n}`);
    const root = join(dir, "root");
    mkdirSync(root, { recursive: true });
    const stub = writeSystemctlStub(dir);
    const health = await startHealthServer(root, stub.state);
    closers.push(health.close);
    const env = {
      NODE: process.execPath,
      SYSTEMCTL: stub.path,
      HEALTH_URLS: SERVICES.map((s) => `http://127.0.0.1:${health.port}/health/${s.dir}`).join(" "),
    };
    const source = (tag: string, opts: { unhealthy?: boolean } = {}) =>
      makeSourceTree(join(dir, `src-${tag}`), tag, opts);
    const current = () => readlinkSync(join(root, "opt/quantum/current"));
    const releases = () => readdirSync(join(root, "opt/quantum/releases")).sort();
    return { dir, root, stub, env, source, current, releases };
  }

  beforeAll(() => {
    ensureTestTools();
    base = mkdtempSync(join(tmpdir(), "quantum-deploy-"));
  });
  afterAll(async () => {
    for (const close of closers) await close();
    rmSync(base, { recursive: true, force: true });
  });

  it("installs a release, env files (0600), units and the account, and starts the services", async () => {
    const r = await rig();
    const res = await deploy(["--root", r.root, "--source", r.source("a"), "--version", "v1"], r.env);
    expect(res.code, res.stdout + res.stderr).toBe(0);

    expect(r.current()).toBe("releases/v1");
    expect(
      readFileSync(join(r.root, "opt/quantum/current/services/apply-layer/dist/main.js"), "utf8"),
    ).toContain("apply-layer a");
    for (const [i, s] of SERVICES.entries()) {
      const envFile = join(r.root, ENV_FILES[i] as string);
      expect(mode(envFile)).toBe("600");
      expect(readFileSync(envFile, "utf8")).toBe(readRepoFile(`etc/quantum/${s.env}.env.example`));
      const unit = `etc/systemd/system/${s.unit}.service`;
      expect(readFileSync(join(r.root, unit), "utf8")).toBe(readRepoFile(unit));
      expect(mode(join(r.root, unit))).toBe("644");
    }
    expect(readFileSync(join(r.root, "etc/systemd/system", TARGET), "utf8")).toBe(
      readRepoFile("etc/systemd/system", TARGET),
    );
    expect(readFileSync(join(r.root, "etc/passwd"), "utf8")).toMatch(/^quantum:x:\d+:\d+:/m);
    expect(existsSync(join(r.root, "usr/local/bin/quantumctl"))).toBe(true);

    expect(writes(stubCalls(r.stub.state))).toEqual([
      "daemon-reload",
      `enable ${TARGET}`,
      "enable --now quantum-position-state-brain.service",
      "enable --now quantum-apply-layer.service",
      "enable --now quantum-p35-decision-intelligence.service",
    ]);
  });

  it("run twice with the same release gives the identical tree and leaves edited env files alone", async () => {
    const r = await rig();
    const src = r.source("a");
    const args = ["--root", r.root, "--source", src, "--version", "v1"];
    expect((await deploy(args, r.env)).code).toBe(0);
    // an operator edits an env file between the runs
    const edited = join(r.root, "etc/quantum/apply-layer.env");
    appendFileSync(edited, "APPLY_ALLOWLIST=BTCUSDT,ETHUSDT\n");
    const editedText = readFileSync(edited, "utf8");
    const before = treeSnapshot(r.root);
    const callsBefore = stubCalls(r.stub.state).length;

    const second = await deploy(args, r.env);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(treeSnapshot(r.root)).toEqual(before);
    expect(readFileSync(edited, "utf8")).toBe(editedText);
    expect(editedText.match(/^APPLY_ALLOWLIST=/gm)).toHaveLength(2);
    for (const f of ENV_FILES) expect(mode(join(r.root, f))).toBe("600");
    expect(r.releases()).toEqual(["v1"]);
    // nothing changed, so nothing is reloaded or restarted
    expect(writes(stubCalls(r.stub.state).slice(callsBefore))).toEqual([]);
  });

  it("a new release flips current, keeps the previous one and restarts the services", async () => {
    const r = await rig();
    expect((await deploy(["--root", r.root, "--source", r.source("a"), "--version", "v1"], r.env)).code).toBe(
      0,
    );
    const callsBefore = stubCalls(r.stub.state).length;
    const res = await deploy(["--root", r.root, "--source", r.source("b"), "--version", "v2"], r.env);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(r.current()).toBe("releases/v2");
    expect(readlinkSync(join(r.root, "opt/quantum/previous"))).toBe("releases/v1");
    expect(r.releases()).toEqual(["v1", "v2"]);
    expect(writes(stubCalls(r.stub.state).slice(callsBefore))).toEqual([
      "restart quantum-position-state-brain.service",
      "restart quantum-apply-layer.service",
      "restart quantum-p35-decision-intelligence.service",
    ]);
  });

  it("rolls back to the previous release when the new one never gets healthy", async () => {
    const r = await rig();
    expect((await deploy(["--root", r.root, "--source", r.source("a"), "--version", "v1"], r.env)).code).toBe(
      0,
    );
    const callsBefore = stubCalls(r.stub.state).length;
    const res = await deploy(
      [
        "--root",
        r.root,
        "--source",
        r.source("bad", { unhealthy: true }),
        "--version",
        "v2",
        "--health-timeout",
        "2",
      ],
      r.env,
    );
    expect(res.code, res.stdout + res.stderr).toBe(2);
    expect(r.current()).toBe("releases/v1");
    expect(r.releases()).toEqual(["v1"]);
    const restarts = writes(stubCalls(r.stub.state).slice(callsBefore));
    // restarted onto v2, then again onto v1 after the rollback
    expect(restarts.filter((c) => c === "restart quantum-apply-layer.service")).toHaveLength(2);
    // and v1 answers healthy again
    const again = await deploy(["--root", r.root, "--source", r.source("a"), "--version", "v1"], r.env);
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });

  it("exits non-zero without a rollback target when the very first release is unhealthy", async () => {
    const r = await rig();
    const res = await deploy(
      [
        "--root",
        r.root,
        "--source",
        r.source("bad", { unhealthy: true }),
        "--version",
        "v1",
        "--health-timeout",
        "1",
      ],
      r.env,
    );
    expect(res.code).toBe(3);
    expect(r.current()).toBe("releases/v1");
  });

  it("refuses to replace an installed version with different content", async () => {
    const r = await rig();
    expect((await deploy(["--root", r.root, "--source", r.source("a"), "--version", "v1"], r.env)).code).toBe(
      0,
    );
    const before = treeSnapshot(r.root);
    const res = await deploy(["--root", r.root, "--source", r.source("b"), "--version", "v1"], r.env);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("different content");
    expect(treeSnapshot(r.root)).toEqual(before);
  });

  it("--dry-run changes nothing and calls no state-changing systemctl command", async () => {
    const r = await rig();
    // on an empty root
    const empty = await deploy(
      ["--root", r.root, "--source", r.source("a"), "--version", "v1", "--dry-run"],
      r.env,
    );
    expect(empty.code, empty.stdout + empty.stderr).toBe(0);
    expect(readdirSync(r.root)).toEqual([]);
    // and on an installed one
    expect((await deploy(["--root", r.root, "--source", r.source("a"), "--version", "v1"], r.env)).code).toBe(
      0,
    );
    const before = treeSnapshot(r.root);
    const callsBefore = stubCalls(r.stub.state).length;
    const res = await deploy(
      ["--root", r.root, "--source", r.source("b"), "--version", "v2", "--dry-run"],
      r.env,
    );
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain("[dry-run] would run:");
    expect(treeSnapshot(r.root)).toEqual(before);
    expect(writes(stubCalls(r.stub.state).slice(callsBefore))).toEqual([]);
  });

  it("health-checks the ports from existing env files, which it never touches", async () => {
    const r = await rig();
    mkdirSync(join(r.root, "etc/quantum"), { recursive: true });
    const written: string[] = [];
    for (const [i, s] of SERVICES.entries()) {
      const h = await startHealthServer(r.root, r.stub.state, s.dir);
      closers.push(h.close);
      const text = `# operator's file\n${s.portVar}=${h.port}\nMETRICS_HOST=127.0.0.1\n`;
      writeFileSync(join(r.root, ENV_FILES[i] as string), text, { mode: 0o600 });
      written.push(text);
    }
    const res = await deploy(["--root", r.root, "--source", r.source("a"), "--version", "v1"], {
      SYSTEMCTL: r.env.SYSTEMCTL,
      HEALTH_URLS: undefined,
    });
    expect(res.code, res.stdout + res.stderr).toBe(0);
    for (const [i, f] of ENV_FILES.entries()) {
      expect(readFileSync(join(r.root, f), "utf8")).toBe(written[i]);
      expect(mode(join(r.root, f))).toBe("600");
    }
  });

  it("installs from a tarball with one top-level directory", async () => {
    const r = await rig();
    const src = r.source("t");
    const tarball = join(r.dir, "release.tar.gz");
    const parent = join(r.dir, "pack");
    cpSync(src, join(parent, "quantum-p3-t"), { recursive: true });
    expect((await run("tar", ["-czf", tarball, "-C", parent, "quantum-p3-t"])).code).toBe(0);
    const res = await deploy(["--root", r.root, "--tarball", tarball, "--version", "t1"], r.env);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const installed = join(r.root, "opt/quantum/releases/t1");
    expect(treeSnapshot(installed).map((l) => l.replace(/^(\S+ \S+) \S+/, "$1"))).toEqual(
      treeSnapshot(src).map((l) => l.replace(/^(\S+ \S+) \S+/, "$1")),
    );
  });

  it("keeps the newest --keep releases and can roll back with --rollback", async () => {
    const r = await rig();
    for (const v of ["v1", "v2", "v3", "v4"]) {
      const res = await deploy(
        ["--root", r.root, "--source", r.source(v), "--version", v, "--keep", "2"],
        r.env,
      );
      expect(res.code, res.stdout + res.stderr).toBe(0);
    }
    expect(r.releases()).toEqual(["v3", "v4"]);
    const back = await deploy(["--root", r.root, "--rollback"], r.env);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(r.current()).toBe("releases/v3");
    expect(readlinkSync(join(r.root, "opt/quantum/previous"))).toBe("releases/v4");
  }, 90_000);

  it("checks every env file with the new release and keeps current when one does not validate", async () => {
    const r = await rig();
    expect((await deploy(["--root", r.root, "--source", r.source("a"), "--version", "v1"], r.env)).code).toBe(
      0,
    );
    const p33 = join(r.root, "etc/quantum/position-state-brain.env");
    const p35 = join(r.root, "etc/quantum/p35-decision-intelligence.env");
    writeFileSync(p33, `${readFileSync(p33, "utf8")}${FAKE_INVALID}=P33_POLL_SEC: expected a number\n`);
    writeFileSync(
      p35,
      `${readFileSync(p35, "utf8")}${FAKE_INVALID}=P35_BATCH_SIZE: too big\n${FAKE_INVALID}=LOG_LEVEL: unknown\n`,
    );
    const callsBefore = stubCalls(r.stub.state).length;

    const res = await deploy(["--root", r.root, "--source", r.source("b"), "--version", "v2"], r.env);
    expect(res.code, res.stdout + res.stderr).toBe(1);
    expect(res.stdout).toContain(`config ok: ${join(r.root, "etc/quantum/apply-layer.env")}`);
    expect(res.stderr).toContain(`${p33} does not validate for quantum-position-state-brain`);
    expect(res.stderr).toContain("  - P33_POLL_SEC: expected a number");
    expect(res.stderr).toContain(`${p35} does not validate for quantum-p35-decision-intelligence`);
    expect(res.stderr).toContain("  - P35_BATCH_SIZE: too big");
    expect(res.stderr).toContain("  - LOG_LEVEL: unknown");
    expect(res.stderr).toContain("current was not switched");
    expect(r.current()).toBe("releases/v1");
    expect(writes(stubCalls(r.stub.state).slice(callsBefore))).toEqual([]);

    // fixed: the same release goes live
    writeFileSync(p33, readRepoFile("etc/quantum/position-state-brain.env.example"));
    writeFileSync(p35, readRepoFile("etc/quantum/p35-decision-intelligence.env.example"));
    const fixed = await deploy(["--root", r.root, "--source", r.source("b"), "--version", "v2"], r.env);
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
    expect(r.current()).toBe("releases/v2");
  });

  it("refuses a Node.js older than 20.19 before touching anything, accepts 20.19", async () => {
    const r = await rig();
    const fakeNode = (version: string): string => {
      const path = join(r.dir, `node-${version}`);
      writeFileSync(
        path,
        `#!/usr/bin/env bash\nif [ "$1" = --version ]; then echo ${version}; exit 0; fi\nexec ${JSON.stringify(process.execPath)} "$@"\n`,
        { mode: 0o755 },
      );
      return path;
    };
    const args = ["--root", r.root, "--source", r.source("a"), "--version", "v1"];
    for (const version of ["v18.19.0", "v20.18.3"]) {
      const res = await deploy(args, { ...r.env, NODE: fakeNode(version) });
      expect(res.code, version).toBe(1);
      expect(res.stderr).toContain(`is ${version}; the services need Node.js >= 20.19`);
    }
    const missing = await deploy(args, { ...r.env, NODE: join(r.dir, "no-node") });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("Node.js not found at");
    expect(readdirSync(r.root)).toEqual([]);
    expect(stubCalls(r.stub.state)).toEqual([]);

    const ok = await deploy(args, { ...r.env, NODE: fakeNode("v20.19.0") });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain("node v20.19.0");
  });

  it("never resets a checkout or appends to a file", () => {
    const script = readRepoFile("ops/deploy.sh")
      .split("\n")
      .filter((l) => !l.trimStart().startsWith("#"))
      .join("\n");
    expect(script).not.toMatch(/git\s+(reset|checkout|pull|clean)/);
    expect(script).not.toMatch(/>>/);
  });

  it("rejects bad arguments before touching anything", async () => {
    const r = await rig();
    for (const args of [
      ["--bogus"],
      ["--version", "../x"],
      ["--keep", "1"],
      ["--tarball", "/nonexistent.tgz"],
    ]) {
      const res = await deploy(["--root", r.root, ...args], r.env);
      expect(res.code, args.join(" ")).toBe(1);
    }
    expect(readdirSync(r.root)).toEqual([]);
    expect(stubCalls(r.stub.state)).toEqual([]);
  });
});
