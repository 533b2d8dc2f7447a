import { keys } from "@quantum/contracts";
import { startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../src/program.js";
import type { CliIo } from "../src/run.js";

let redis: TestRedis;
let r: Redis;
let url: string;
const ESC = "\u001b[";

beforeAll(async () => {
  redis = await startTestRedis();
  r = redis.client();
  url = redis.url(0);
});
afterAll(async () => {
  await redis.stop();
});

interface FakeIo extends CliIo {
  out: string;
  err: string;
  interrupt: (() => void) | null;
}

function fakeIo(opts: {
  isTTY: boolean;
  env?: Record<string, string>;
  onWrite?: (io: FakeIo) => void;
}): FakeIo {
  const io: FakeIo = {
    out: "",
    err: "",
    interrupt: null,
    env: opts.env ?? {},
    isTTY: opts.isTTY,
    defaultActor: "tester@host",
    stdout(s) {
      io.out += s;
      opts.onWrite?.(io);
    },
    stderr(s) {
      io.err += s;
    },
    onInterrupt(handler) {
      io.interrupt = handler;
      return () => {
        io.interrupt = null;
      };
    },
  };
  return io;
}

describe("colours", () => {
  it("colours only on a TTY, never with NO_COLOR or --json", async () => {
    await r.set(keys.tradingState, "ACTIVE");
    const tty = fakeIo({ isTTY: true });
    expect(await runCli(["state", "show", "--redis-url", url], tty)).toBe(0);
    expect(tty.out).toContain(`${ESC}32m`);

    const pipe = fakeIo({ isTTY: false });
    await runCli(["state", "show", "--redis-url", url], pipe);
    expect(pipe.out).not.toContain(ESC);

    const noColor = fakeIo({ isTTY: true, env: { NO_COLOR: "1" } });
    await runCli(["state", "show", "--redis-url", url], noColor);
    expect(noColor.out).not.toContain(ESC);

    const json = fakeIo({ isTTY: true });
    await runCli(["state", "show", "--json", "--redis-url", url], json);
    expect(json.out).not.toContain(ESC);
    expect(JSON.parse(json.out)).toMatchObject({ state: "ACTIVE" });
  });
});

describe("status --watch", () => {
  it("clears the screen between frames only on a TTY and stops on interrupt", async () => {
    let frames = 0;
    const onWrite = (io: FakeIo) => {
      if (io.out.includes("quantum status") && ++frames >= 1) io.interrupt?.();
    };
    const tty = fakeIo({ isTTY: true, onWrite });
    expect(await runCli(["status", "--watch", "--interval", "0.1", "--redis-url", url], tty)).toBe(0);
    expect(tty.out.startsWith(`${ESC}2J${ESC}H`)).toBe(true);
    expect(tty.interrupt).toBeNull();

    const pipe = fakeIo({ isTTY: false, onWrite });
    expect(await runCli(["status", "--watch", "--interval", "0.1", "--redis-url", url], pipe)).toBe(0);
    expect(pipe.out).not.toContain(`${ESC}2J`);
    expect(pipe.out).toContain("quantum status");
  });

  it("rejects a bad interval as a usage error", async () => {
    const io = fakeIo({ isTTY: false });
    expect(await runCli(["status", "--watch", "--interval", "0", "--redis-url", url], io)).toBe(2);
    expect(io.err).toContain("--interval");
  });
});
