import { describe, expect, it } from "vitest";
import { classifyError, parseRetryAfter, redact } from "../src/index.js";

const SECRETS = ["myApiKey-123456", "mySecret-abcdef"];

describe("classifyError on non-HTTP errors", () => {
  it("axios refusing to build the request is notSent; a thrown value of unknown shape is unknown", () => {
    expect(
      classifyError({ isAxiosError: true, code: "ERR_INVALID_URL", message: "Invalid URL" }, SECRETS).failure
        .kind,
    ).toBe("notSent");
    expect(classifyError(new Error("something inside the library"), SECRETS).failure.kind).toBe("unknown");
    expect(classifyError("boom", SECRETS).failure).toEqual({ kind: "unknown", detail: "boom" });
  });

  it("DNS failures are notSent; resets and timeouts after sending are unknown", () => {
    const sent = { isAxiosError: true, request: {} };
    expect(
      classifyError({ ...sent, code: "ENOTFOUND", message: "getaddrinfo ENOTFOUND x" }, SECRETS).failure.kind,
    ).toBe("notSent");
    expect(
      classifyError({ ...sent, code: "ECONNRESET", message: "socket hang up" }, SECRETS).failure.kind,
    ).toBe("unknown");
    expect(
      classifyError({ ...sent, code: "ECONNABORTED", message: "timeout of 5000ms exceeded" }, SECRETS).failure
        .kind,
    ).toBe("unknown");
  });

  it("an HTTP status without a Binance code is unknown, whatever the status", () => {
    const resp = (status: number) => ({
      isAxiosError: true,
      request: {},
      response: { status, data: "", headers: {} },
    });
    for (const status of [400, 401, 404, 409])
      expect(classifyError(resp(status), SECRETS).failure.kind).toBe("unknown");
  });

  it("the raw axios response thrown for a 2xx other than 200 is unknown; its config is never read", () => {
    const raw = {
      status: 202,
      statusText: "Accepted",
      data: { orderId: 1, status: "FILLED", code: -2011 },
      headers: {},
      config: { headers: { "X-MBX-APIKEY": SECRETS[0] }, url: "http://x/fapi/v1/order?signature=abcdef0123" },
      request: {},
    };
    const c = classifyError(raw, SECRETS);
    expect(c).toMatchObject({ failure: { kind: "unknown" }, status: 202, code: null });
    expect(JSON.stringify(c)).not.toContain(SECRETS[0]);
  });

  it("the library's plain {code, message, body, headers} error is classified by its code", () => {
    const plain = (code: number, msg: string) => ({
      code,
      message: msg,
      body: { code, msg },
      headers: { "retry-after": "3" },
      requestOptions: { api_key: SECRETS[0] },
    });
    expect(classifyError(plain(-2022, "ReduceOnly Order is rejected."), SECRETS).failure).toEqual({
      kind: "rejected",
      code: -2022,
      msg: "ReduceOnly Order is rejected.",
    });
    expect(classifyError(plain(-1007, "Timeout"), SECRETS).failure.kind).toBe("unknown");
    expect(classifyError(plain(-1015, "Too many new orders."), SECRETS).failure).toEqual({
      kind: "rateLimited",
      retryAfterMs: 3000,
      code: -1015,
    });
    const noCode = { message: undefined, body: "<html>", headers: {} };
    expect(classifyError(noCode, SECRETS).failure.kind).toBe("unknown");
  });

  it("429 without Retry-After falls back to a default back-off", () => {
    const e = {
      isAxiosError: true,
      request: {},
      response: { status: 429, data: { code: -1003, msg: "x" }, headers: {} },
    };
    expect(classifyError(e, SECRETS).failure).toEqual({
      kind: "rateLimited",
      retryAfterMs: 60_000,
      code: -1003,
    });
  });
});

describe("parseRetryAfter", () => {
  it("reads delta-seconds and HTTP dates", () => {
    expect(parseRetryAfter("7")).toBe(7000);
    expect(parseRetryAfter("0.5")).toBe(500);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:10 GMT", Date.parse("2026-01-01T00:00:00Z"))).toBe(10_000);
    expect(parseRetryAfter("soon")).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
  });
});

describe("redact", () => {
  it("removes keys, secrets and signatures", () => {
    const text = "GET /fapi/v1/order?x=1&signature=abcdef0123 key=myApiKey-123456 secret mySecret-abcdef";
    const r = redact(text, SECRETS);
    expect(r).not.toContain("myApiKey-123456");
    expect(r).not.toContain("mySecret-abcdef");
    expect(r).not.toContain("abcdef0123");
    expect(r).toContain("signature=[redacted]");
  });
});
