import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, redactString } from "../src/index.js";

function sink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      cb();
    },
  });
  return { stream, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const SECRETS = ["K3yValue-abcdef", "S3cretValue-123456", "r3dis-pass-word", "sigsigsig0123"];

describe("createLogger", () => {
  it("writes JSON with service, level label and component children", () => {
    const out = sink();
    const log = createLogger({ service: "apply-layer", level: "debug", destination: out.stream });
    log.child({ component: "permit-waiter" }).debug({ planId: "ab12" }, "permits consumed");
    const [rec] = out.records();
    expect(rec).toMatchObject({
      level: "debug",
      service: "apply-layer",
      component: "permit-waiter",
      planId: "ab12",
      msg: "permits consumed",
    });
    expect(typeof rec?.time).toBe("string");
  });

  it("redacts secret keys at any depth, headers, config.headers and BINANCE_* variables", () => {
    const out = sink();
    const log = createLogger({ service: "apply-layer", destination: out.stream });
    const [key, secret, redisPass, sig] = SECRETS as [string, string, string, string];
    log.info(
      {
        apiKey: key,
        api_secret: secret,
        cfg: { BINANCE_API_KEY: key, BINANCE_TESTNET_API_SECRET: secret, REDIS_PASSWORD: redisPass },
        request: {
          headers: { "X-MBX-APIKEY": key, authorization: `Bearer ${secret}` },
          params: { signature: sig },
        },
        deep: { a: { b: { password: redisPass, c: { secret } } } },
      },
      "config loaded",
    );
    const err = Object.assign(new Error("request failed"), { config: { headers: { "X-MBX-APIKEY": key } } });
    log.error({ err }, "order failed");
    log.child({ component: "exchange" }).warn({ response: { config: { headers: { Any: key } } } }, "retry");
    const text = out.lines.join("\n");
    for (const s of SECRETS) expect(text).not.toContain(s);
    const [first, second] = out.records() as [
      Record<string, Record<string, unknown>>,
      Record<string, Record<string, unknown>>,
    ];
    expect(first.apiKey).toBe("[REDACTED]");
    expect(first.cfg?.BINANCE_API_KEY).toBe("[REDACTED]");
    expect(second.err?.message).toBe("request failed");
  });

  it("scrubs known secret values and signature params from messages, errors and string fields", () => {
    const out = sink();
    const [key, secret] = SECRETS as [string, string];
    const log = createLogger({ service: "apply-layer", destination: out.stream, secrets: [key, secret] });
    const url = `https://fapi.binance.com/fapi/v1/order?symbol=BTCUSDT&timestamp=1&signature=deadbeef99`;
    log.warn({ url }, `call failed for key ${key}`);
    log.error({ err: new Error(`401 for ${url} with secret ${secret}`) }, "order failed");
    log.error(new Error(`GET ${url}`), "plain error");
    const text = out.lines.join("\n");
    expect(text).not.toContain(key);
    expect(text).not.toContain(secret);
    expect(text).not.toContain("deadbeef99");
    expect(text).toContain("signature=[REDACTED]");
    expect(out.records()[0]?.msg).toBe("call failed for key [REDACTED]");
  });
});

describe("redactString", () => {
  it("removes secret values, signature query params, auth headers and URL passwords", () => {
    expect(redactString("GET /x?a=1&signature=abc123&b=2", [])).toBe("GET /x?a=1&signature=[REDACTED]&b=2");
    expect(redactString("key=MYKEY1234 failed", ["MYKEY1234"])).toBe("key=[REDACTED] failed");
    expect(redactString('headers {"X-MBX-APIKEY":"zzzzzz"}')).toBe('headers {"X-MBX-APIKEY":"[REDACTED]"}');
    expect(redactString("Authorization: Bearer tok.en")).toBe("Authorization: [REDACTED]");
    expect(redactString("connect redis://user:hunter22@10.0.0.5:6379/0 failed")).toBe(
      "connect redis://user:[REDACTED]@10.0.0.5:6379/0 failed",
    );
    expect(redactString("nothing secret here", ["", undefined])).toBe("nothing secret here");
  });
});
