import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTestTools, readRepoFile, repoPath, run } from "./helpers.js";
import { readUnit, SERVICES, TARGET, unitPath, value, values } from "./units.js";

const MAX_EXPOSURE = 2.5;
const ALL_UNITS = [...SERVICES.map((s) => `${s.unit}.service`), TARGET];

async function exposure(file: string): Promise<number> {
  const r = await run("systemd-analyze", ["security", "--offline=true", "--no-pager", file]);
  const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(r.stdout + r.stderr);
  if (m === null) throw new Error(`no exposure line in:\n${r.stdout}\n${r.stderr}`);
  return Number(m[1]);
}

describe("systemd units", () => {
  let scratch = "";
  beforeAll(() => {
    ensureTestTools();
    scratch = mkdtempSync(join(tmpdir(), "quantum-units-"));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it.each(ALL_UNITS)("systemd-analyze verify prints nothing for %s", async (file) => {
    expect(existsSync("/usr/bin/node"), "ExecStart needs /usr/bin/node").toBe(true);
    const r = await run("systemd-analyze", ["verify", "--no-pager", unitPath(file)]);
    expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({ code: 0, out: "" });
  });

  it("the verify check notices a broken unit (unknown directive, missing binary)", async () => {
    const broken = readFileSync(unitPath("quantum-apply-layer.service"), "utf8")
      .replace("ProtectClock=yes", "ProtectClok=yes")
      .replace("ExecStart=/usr/bin/node ", "ExecStart=/usr/bin/no-such-node ");
    const file = join(scratch, "quantum-apply-layer.service");
    writeFileSync(file, broken);
    const r = await run("systemd-analyze", ["verify", "--no-pager", file]);
    const out = r.stdout + r.stderr;
    expect(out).toContain("ProtectClok");
    expect(out).toContain("/usr/bin/no-such-node");
  });

  it.each(SERVICES)(
    "$unit: exposure <= 2.5 and equal to the figure in docs/operations/systemd.md",
    async (s) => {
      const figure = await exposure(unitPath(`${s.unit}.service`));
      expect(figure).toBeLessThanOrEqual(MAX_EXPOSURE);
      const doc = readRepoFile("docs/operations/systemd.md");
      const row = new RegExp(`\\|\\s*\`?${s.unit}\\.service\`?\\s*\\|\\s*(\\d+\\.\\d)\\s*\\|`).exec(doc);
      expect(row, `docs/operations/systemd.md has no exposure row for ${s.unit}.service`).not.toBeNull();
      expect(Number(row?.[1])).toBe(figure);
    },
  );

  it("the exposure check notices a unit without the sandbox", async () => {
    const bare = join(scratch, "bare.service");
    writeFileSync(bare, "[Service]\nExecStart=/usr/bin/node /opt/x.js\n");
    expect(await exposure(bare)).toBeGreaterThan(MAX_EXPOSURE);
  });

  it.each(SERVICES)("$unit runs the service's dist/main.js as user quantum with its env file", (s) => {
    const u = readUnit(`${s.unit}.service`);
    expect(value(u, "Service", "User")).toBe("quantum");
    expect(value(u, "Service", "Group")).toBe("quantum");
    expect(value(u, "Service", "ExecStart")).toBe(
      `/usr/bin/node /opt/quantum/current/services/${s.dir}/dist/main.js`,
    );
    expect(existsSync(repoPath("services", s.dir)), `services/${s.dir} exists in the repo`).toBe(true);
    expect(value(u, "Service", "EnvironmentFile")).toBe(`/etc/quantum/${s.env}.env`);
    expect(existsSync(repoPath("etc/quantum", `${s.env}.env.example`))).toBe(true);
    expect(value(u, "Service", "WorkingDirectory")).toBe("/opt/quantum/current");
  });

  it.each(SERVICES)(
    "$unit restarts on failure with a start limit, stops within 15 s, has resource limits",
    (s) => {
      const u = readUnit(`${s.unit}.service`);
      expect(value(u, "Service", "Restart")).toBe("on-failure");
      expect(Number(value(u, "Service", "RestartSec"))).toBeGreaterThan(0);
      expect(Number(value(u, "Unit", "StartLimitIntervalSec"))).toBeGreaterThan(0);
      expect(Number(value(u, "Unit", "StartLimitBurst"))).toBeGreaterThan(0);
      expect(values(u, "Service", "StartLimitIntervalSec")).toEqual([]);
      expect(value(u, "Service", "TimeoutStopSec")).toBe("15");
      expect(value(u, "Service", "KillSignal")).toBe("SIGTERM");
      expect(value(u, "Service", "MemoryMax")).toMatch(/^\d+[KMG]$/);
      expect(value(u, "Service", "CPUQuota")).toMatch(/^\d+%$/);
      expect(value(u, "Unit", "After")).toContain("network-online.target");
      expect(value(u, "Unit", "After")).toContain("redis");
      expect(value(u, "Unit", "Wants")).toContain("network-online.target");
      expect(value(u, "Unit", "PartOf")).toBe(TARGET);
      expect(value(u, "Install", "WantedBy")).toBe(TARGET);
    },
  );

  it.each(SERVICES)("$unit carries the sandbox of a stateless network daemon", (s) => {
    const u = readUnit(`${s.unit}.service`);
    const expected: Record<string, string> = {
      NoNewPrivileges: "yes",
      ProtectSystem: "strict",
      ProtectHome: "yes",
      PrivateTmp: "yes",
      PrivateDevices: "yes",
      PrivateUsers: "yes",
      ProtectKernelTunables: "yes",
      ProtectKernelModules: "yes",
      ProtectKernelLogs: "yes",
      ProtectControlGroups: "yes",
      ProtectClock: "yes",
      ProtectHostname: "yes",
      ProtectProc: "invisible",
      ProcSubset: "pid",
      RestrictAddressFamilies: "AF_INET AF_INET6 AF_UNIX",
      RestrictNamespaces: "yes",
      RestrictRealtime: "yes",
      RestrictSUIDSGID: "yes",
      LockPersonality: "yes",
      SystemCallArchitectures: "native",
      CapabilityBoundingSet: "",
      AmbientCapabilities: "",
      UMask: "0077",
    };
    for (const [key, want] of Object.entries(expected)) {
      expect(value(u, "Service", key), key).toBe(want);
    }
    expect(values(u, "Service", "SystemCallFilter")).toContain("@system-service");
    // node's JIT needs writable+executable memory
    expect(values(u, "Service", "MemoryDenyWriteExecute")).toEqual([]);
    expect(values(u, "Service", "User")).not.toContain("root");
  });

  it("quantum-p3.target wants all three services", () => {
    const t = readUnit(TARGET);
    const wants = value(t, "Unit", "Wants").split(/\s+/);
    expect(wants.sort()).toEqual(SERVICES.map((s) => `${s.unit}.service`).sort());
    expect(value(t, "Install", "WantedBy")).toBe("multi-user.target");
  });

  it("sysusers.d creates the unprivileged account quantum", async () => {
    const root = join(scratch, "sysroot");
    mkdirSync(join(root, "etc"), { recursive: true });
    const r = await run("systemd-sysusers", [`--root=${root}`, repoPath("etc/sysusers.d/quantum.conf")]);
    expect(r.code).toBe(0);
    const passwd = readFileSync(join(root, "etc/passwd"), "utf8");
    const entry = passwd.split("\n").find((l) => l.startsWith("quantum:"));
    expect(entry).toBeDefined();
    const [, , uid, , , , shell] = (entry as string).split(":");
    expect(Number(uid)).toBeGreaterThan(0);
    expect(Number(uid)).toBeLessThan(1000);
    expect(shell).toBe("/usr/sbin/nologin");
  });
});
