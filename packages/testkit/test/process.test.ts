import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startServiceProcess, waitServiceReady } from "../src/index.js";

describe("waitServiceReady", () => {
  let dir: string;
  let entry: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "svc-"));
    entry = join(dir, "svc.mjs");
    // a stand-in service: /health always 200, /ready 200 only when READY=1
    writeFileSync(
      entry,
      `import { createServer } from "node:http";
       process.stderr.write("booting\\n");
       createServer((req, res) => {
         const ok = req.url === "/health" || (req.url === "/ready" && process.env.READY === "1");
         res.writeHead(ok ? 200 : 503).end();
       }).listen(Number(process.env.PORT), "127.0.0.1");`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("resolves once /health and /ready answer 200", async () => {
    const port = await freePort();
    const proc = startServiceProcess({ entry, env: { PORT: String(port), READY: "1" } });
    await waitServiceReady(proc, port);
    expect(await proc.stop()).toBe("SIGTERM");
  });

  it("kills a service that never gets ready and reports its output", async () => {
    const port = await freePort();
    const proc = startServiceProcess({ entry, env: { PORT: String(port), READY: "0" } });
    await expect(waitServiceReady(proc, port, { readyTimeoutMs: 300 })).rejects.toThrow(
      /ready 503[\s\S]*booting/,
    );
    expect(await proc.exited).toBe("SIGKILL");
  });
});
