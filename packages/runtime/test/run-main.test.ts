import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));

/** Run `runMain` from the built package in a real node process with the given body of `main`. */
function run(body: string) {
  const script = `import { runMain } from ${JSON.stringify(DIST)};\nrunMain("svc-test", async () => { ${body} });`;
  return spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
}

describe("runMain (a real process)", () => {
  it("exits with the code main resolves to", () => {
    const r = run("return 2;");
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("");
  });

  it("a throw escaping main prints `<service>: fatal: <stack>` and exits 1", () => {
    const r = run('throw new Error("boom");');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^svc-test: fatal: Error: boom\n\s+at /);
  });

  it("a non-Error thrown value is printed as text", () => {
    const r = run('throw "plain text";');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("svc-test: fatal: plain text\n");
  });
});
