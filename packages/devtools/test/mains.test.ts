import { fileURLToPath } from "node:url";
import { decodeHarvestProposal, keys } from "@quantum/contracts";
import { eventually, startServiceProcess, startTestRedis, type TestRedis } from "@quantum/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The built entries (`pnpm --filter @quantum/devtools build` first), run as real processes.
const FEEDER = fileURLToPath(new URL("../dist/feeder-main.js", import.meta.url));
const GOVERNOR = fileURLToPath(new URL("../dist/governor-main.js", import.meta.url));

let redis: TestRedis;

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe("quantum-demo-feeder", () => {
  it("writes fresh proposals every interval and stops cleanly on SIGTERM", async () => {
    const r = redis.client();
    const proc = startServiceProcess({
      entry: FEEDER,
      env: {
        REDIS_URL: redis.url(0),
        FEEDER_SYMBOLS: "BTCUSDT,ETHUSDT",
        FEEDER_INTERVAL_SEC: "0.1",
        FEEDER_SEED: "9",
      },
    });
    try {
      await eventually(async () => {
        const d = decodeHarvestProposal(await r.hgetall(keys.harvestProposal("ETHUSDT")), "ETHUSDT");
        return d.ok;
      });
      const firstMark = await r.hget(keys.paperPosition("BTCUSDT"), "mark_price");
      expect(firstMark).not.toBeNull();
      // Every round moves the mark a little: a later round is visible as a new mark.
      await eventually(
        async () => (await r.hget(keys.paperPosition("BTCUSDT"), "mark_price")) !== firstMark,
        {
          timeoutMs: 5000,
        },
      );
    } finally {
      expect(await proc.stop()).toBe(0);
    }
  });

  it("refuses symbols it has no paper defaults for", async () => {
    const proc = startServiceProcess({
      entry: FEEDER,
      env: { REDIS_URL: "redis://127.0.0.1:1/0", FEEDER_SYMBOLS: "FOOUSDT" },
    });
    expect(await proc.exited).toBe(2);
    expect(proc.stderr()).toContain("FOOUSDT");
  });
});

describe("quantum-dev-governor", () => {
  it("refuses an invalid configuration before connecting", async () => {
    const proc = startServiceProcess({
      entry: GOVERNOR,
      env: { REDIS_URL: "redis://127.0.0.1:1/0", GOVERNOR_DELAY_MS: "soon" },
    });
    expect(await proc.exited).toBe(2);
    expect(proc.stderr()).toContain("GOVERNOR_DELAY_MS");
  });
});
