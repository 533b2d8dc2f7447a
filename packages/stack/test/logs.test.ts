import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fileSink, formatChildLine, terminalSink } from "../src/index.js";

describe("child log lines", () => {
  it("pino JSON becomes time LEVEL msg k=v with the process name in front", () => {
    const line = JSON.stringify({
      level: "info",
      time: "2026-02-01T06:50:00.123Z",
      service: "apply-layer",
      pid: 1,
      hostname: "h",
      msg: "permit wait ended",
      planId: "ba3cbf84bf17f3a2",
      waitMs: 3,
      detail: "two words",
    });
    expect(formatChildLine("apply-layer", line, 12)).toBe(
      'apply-layer | 06:50:00.123 INFO  permit wait ended planId=ba3cbf84bf17f3a2 waitMs=3 detail="two words"',
    );
    expect(
      formatChildLine("x", JSON.stringify({ level: 50, time: Date.UTC(2026, 0, 1), msg: "boom" }), 2),
    ).toBe("x | 00:00:00.000 ERROR boom");
  });

  it("other lines pass through; very long lines are cut", () => {
    expect(formatChildLine("redis-server", "ready to accept", 12)).toBe("redis-server| ready to accept");
    expect(formatChildLine("a", "{not json", 1)).toBe("a| {not json");
    const long = JSON.stringify({ level: "info", msg: "m", blob: "x".repeat(1000) });
    expect(formatChildLine("a", long).length).toBeLessThanOrEqual(400);
  });

  it("the terminal sink formats, the file sink keeps raw lines per process", async () => {
    const out: string[] = [];
    terminalSink((l) => out.push(l)).line("feeder", "hello");
    expect(out).toEqual([`${"feeder".padEnd(21)}| hello`]);
    const dir = mkdtempSync(join(tmpdir(), "stack-logs-"));
    try {
      const sink = fileSink(join(dir, "logs"));
      sink.line("apply-layer", '{"msg":"a"}');
      sink.line("apply-layer", "second");
      sink.line("dev-governor", "g");
      await sink.close();
      expect(readFileSync(join(dir, "logs", "apply-layer.log"), "utf8")).toBe('{"msg":"a"}\nsecond\n');
      expect(sink.fileOf("dev-governor")).toBe(join(dir, "logs", "dev-governor.log"));
      expect(readFileSync(join(dir, "logs", "dev-governor.log"), "utf8")).toBe("g\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
