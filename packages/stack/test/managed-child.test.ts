import { eventually } from "@quantum/testkit";
import { describe, expect, it } from "vitest";
import { cleanExit, describeExit, ManagedChild } from "../src/index.js";

function node(name: string, script: string, lines: Array<[string, string]>) {
  return new ManagedChild(
    { name, command: process.execPath, args: ["-e", script], env: { PATH: process.env.PATH ?? "" } },
    { onLine: (l, stream) => lines.push([stream, l]), tailLines: 3 },
  );
}

describe("ManagedChild", () => {
  it("splits both streams into lines, keeps a tail and reports the exit", async () => {
    const lines: Array<[string, string]> = [];
    const c = node(
      "talker",
      'process.stdout.write("a\\nb"); setImmediate(() => { process.stdout.write("c\\nd\\n"); process.stderr.write("oops"); process.exit(3); });',
      lines,
    );
    c.start();
    expect(c.running).toBe(true);
    const exit = await c.exited;
    expect(exit).toEqual({ code: 3, signal: null });
    expect(c.running).toBe(false);
    expect(lines).toEqual([
      ["stdout", "a"],
      ["stdout", "bc"],
      ["stdout", "d"],
      ["stderr", "oops"],
    ]);
    expect(c.tail()).toEqual(["bc", "d", "oops"]);
    expect(describeExit(exit)).toBe("exit code 3");
    expect(cleanExit(exit)).toBe(false);
  });

  it("stop(): SIGTERM for a process that handles it, SIGKILL after the timeout for one that ignores it", async () => {
    const lines: Array<[string, string]> = [];
    const polite = node(
      "polite",
      'process.on("SIGTERM", () => process.exit(0)); console.log("up"); setInterval(() => {}, 1000);',
      lines,
    );
    polite.start();
    await eventually(() => lines.some(([, l]) => l === "up"));
    expect(await polite.stop(5000)).toEqual({ exit: { code: 0, signal: null }, forced: false });

    const stubborn = node(
      "stubborn",
      'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000);',
      lines,
    );
    stubborn.start();
    await eventually(() => lines.some(([, l]) => l === "ready"));
    const r = await stubborn.stop(300);
    expect(r).toEqual({ exit: { code: null, signal: "SIGKILL" }, forced: true });
    expect(cleanExit(r.exit)).toBe(false);
  });

  it("can be started again after it ended, with a new pid", async () => {
    const c = node("again", "setTimeout(() => {}, 10)", []);
    c.start();
    const first = c.pid;
    await c.exited;
    c.start();
    expect(c.pid).not.toBe(first);
    expect(await c.exited).toEqual({ code: 0, signal: null });
  });

  it("a command that does not exist ends with code 127 and says why", async () => {
    const lines: Array<[string, string]> = [];
    const c = new ManagedChild(
      { name: "nope", command: "/nonexistent/binary", args: [], env: {} },
      { onLine: (l) => lines.push(["stderr", l]) },
    );
    c.start();
    expect(await c.exited).toEqual({ code: 127, signal: null });
    expect(lines[0]?.[1]).toMatch(/spawn failed/);
  });
});
