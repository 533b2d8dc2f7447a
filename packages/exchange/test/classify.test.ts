import { describe, expect, it } from "vitest";
import { classifyError, parseRetryAfter, redact } from "../src/index.js";

const SECRETS = ["myApiKey-123456", "mySecret-abcdef"];

describe("classifyError on non-HTTP errors", () => {
  it("an error raised before any request (no axios request) is notSent", () => {
    expect(
      classifyError(new Error("Private endpoints require api and private keys to be set"), SECRETS).failure
        .kind,
    ).toBe("notSent");
    expect(classifyError("boom", SECRETS).failure).toEqual({ kind: "notSent", detail: "boom" });
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

  it("a 401 without a Binance code is fatal; a 404 without one is rejected", () => {
    const resp = (status: number) => ({
      isAxiosError: true,
      request: {},
      response: { status, data: "", headers: {} },
    });
    expect(classifyError(resp(401), SECRETS).failure).toMatchObject({ kind: "fatal", code: 0 });
    expect(classifyError(resp(404), SECRETS).failure).toMatchObject({ kind: "rejected", code: 0 });
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
