import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { freePort } from "@quantum/testkit";
import { type RunResult, repoPath, run } from "./helpers.js";
import { SERVICES } from "./units.js";

/** Marker in a fake service's main.js that makes the fake health endpoint answer 503. */
export const NEVER_HEALTHY = "never-healthy";

/** An env-file line that the fake services' --check-config reports as a problem: FAKE_INVALID=<text>. */
export const FAKE_INVALID = "FAKE_INVALID";

/**
 * The --check-config of a fake service: every FAKE_INVALID=<text> line of the --env-file is one problem;
 * prints them like the real services (exit 2) or "configuration OK" (exit 0).
 */
function fakeCheckConfig(dir: string): string {
  return `import { readFileSync } from "node:fs";
const args = process.argv.slice(2);
if (args.includes("--check-config")) {
  const file = args[args.indexOf("--env-file") + 1];
  const problems = readFileSync(file, "utf8").split("\\n").filter((l) => l.startsWith("${FAKE_INVALID}=")).map((l) => l.slice(${FAKE_INVALID.length + 1}));
  if (problems.length === 0) console.log("${dir}: configuration OK");
  else console.error("${dir}: invalid configuration:\\n" + problems.map((p) => "  - " + p).join("\\n"));
  process.exit(problems.length === 0 ? 0 : 2);
}
`;
}

/**
 * A tiny built release tree: services/<dir>/dist/main.js, packages/cli/dist/main.js, a lua dir and a
 * node_modules entry, each file tagged so two releases differ.
 */
export function makeSourceTree(dir: string, tag: string, opts: { unhealthy?: boolean } = {}): string {
  for (const s of SERVICES) {
    const dist = join(dir, "services", s.dir, "dist");
    mkdirSync(dist, { recursive: true });
    writeFileSync(
      join(dist, "main.js"),
      `// ${s.dir} ${tag}${opts.unhealthy ? ` ${NEVER_HEALTHY}` : ""}\n${fakeCheckConfig(s.dir)}`,
    );
    writeFileSync(
      join(dir, "services", s.dir, "package.json"),
      `{"name":"@quantum/${s.dir}","type":"module"}\n`,
    );
  }
  mkdirSync(join(dir, "packages/cli/dist"), { recursive: true });
  writeFileSync(join(dir, "packages/cli/dist/main.js"), `// quantumctl ${tag}\n`);
  mkdirSync(join(dir, "packages/permits/lua"), { recursive: true });
  writeFileSync(join(dir, "packages/permits/lua/consumePermits-5.lua"), `-- ${tag}\nreturn 1\n`);
  mkdirSync(join(dir, "node_modules/ioredis"), { recursive: true });
  writeFileSync(join(dir, "node_modules/ioredis/index.js"), "export default {};\n");
  return dir;
}

/**
 * A systemctl stand-in: appends every call to <state>/calls and keeps enabled/active flags as files, so
 * is-enabled / is-active answer what earlier calls did.
 */
export function writeSystemctlStub(dir: string): { path: string; state: string } {
  const state = join(dir, "systemctl-state");
  mkdirSync(state, { recursive: true });
  const path = join(dir, "systemctl");
  writeFileSync(
    path,
    `#!/usr/bin/env bash
state=${JSON.stringify(state)}
echo "$*" >> "$state/calls"
case "$1" in
  is-active|is-enabled) [ -e "$state/$1.\${!#}" ]; exit ;;
  enable)
    now=0
    for a in "\${@:2}"; do [ "$a" = --now ] && now=1; done
    for a in "\${@:2}"; do
      [ "$a" = --now ] && continue
      touch "$state/is-enabled.$a"
      [ "$now" = 1 ] && touch "$state/is-active.$a"
    done ;;
  start|restart) touch "$state/is-active.$2" ;;
  stop) rm -f "$state/is-active.$2" ;;
esac
exit 0
`,
  );
  chmodSync(path, 0o755);
  return { path, state };
}

export function stubCalls(state: string): string[] {
  const file = join(state, "calls");
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : [];
}

/**
 * Health endpoints for the fake services: GET /health/<dir> (or GET /health for `fixedService`) answers 200
 * when the stub says the unit was started and the release `current` points at is not marked never-healthy,
 * else 503.
 */
export async function startHealthServer(
  root: string,
  stubState: string,
  fixedService?: string,
): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const p = await freePort();
  const server = createServer((req, res) => {
    const m = /^\/health(?:\/([a-z-]+))?$/.exec(req.url ?? "");
    const svc = SERVICES.find((s) => s.dir === (m?.[1] ?? fixedService));
    let healthy = false;
    if (m !== null && svc !== undefined) {
      try {
        const current = realpathSync(join(root, "opt/quantum/current"));
        const code = readFileSync(join(current, "services", svc.dir, "dist/main.js"), "utf8");
        healthy =
          existsSync(join(stubState, `is-active.${svc.unit}.service`)) && !code.includes(NEVER_HEALTHY);
      } catch {
        healthy = false;
      }
    }
    res.writeHead(healthy ? 200 : 503, { "content-type": "text/plain" });
    res.end(healthy ? "ok" : "unhealthy");
  });
  await new Promise<void>((resolve) => server.listen(p, "127.0.0.1", resolve));
  server.unref();
  return {
    server,
    port: p,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function deploy(args: string[], env: Record<string, string | undefined>): Promise<RunResult> {
  return run("bash", [repoPath("ops/deploy.sh"), ...args], { env, timeoutMs: 60_000 });
}
