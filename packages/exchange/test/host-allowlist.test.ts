import { describe, expect, it } from "vitest";
import { BinanceUsdmExchange } from "../src/binance.js";
import {
  createExchange,
  DEFAULT_BASE_URLS,
  ExchangeConfigError,
  PaperExchange,
  resolveBaseUrl,
} from "../src/index.js";

const creds = { apiKey: "k".repeat(20), apiSecret: "s".repeat(20) };

function configError(fn: () => unknown): ExchangeConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ExchangeConfigError) return err;
    throw err;
  }
  throw new Error("expected an ExchangeConfigError");
}

describe("base URL host allowlist", () => {
  it("defaults: testnet host for testnet, fapi.binance.com for production (no trailing slash)", () => {
    expect(resolveBaseUrl("testnet", undefined, false)).toBe("https://testnet.binancefuture.com");
    expect(resolveBaseUrl("production", undefined, false)).toBe("https://fapi.binance.com");
    expect(DEFAULT_BASE_URLS.testnet).not.toContain("fapi.binance.com");
  });

  it("accepts the testnet hosts in testnet mode", () => {
    expect(resolveBaseUrl("testnet", "https://demo-fapi.binance.com/", false)).toBe(
      "https://demo-fapi.binance.com",
    );
    expect(resolveBaseUrl("testnet", "https://TESTNET.binancefuture.com", false)).toBe(
      "https://testnet.binancefuture.com",
    );
  });

  it("accepts the production host only in production mode", () => {
    expect(resolveBaseUrl("production", "https://fapi.binance.com", false)).toBe("https://fapi.binance.com");
    const e = configError(() => resolveBaseUrl("testnet", "https://fapi.binance.com", false));
    expect(e.code).toBe("EXCHANGE_HOST_NOT_ALLOWED");
    expect(
      configError(() => resolveBaseUrl("production", "https://testnet.binancefuture.com", false)).code,
    ).toBe("EXCHANGE_HOST_NOT_ALLOWED");
  });

  it("accepts loopback only with allowLoopback", () => {
    for (const url of ["http://127.0.0.1:9999", "http://localhost:1234", "http://[::1]:4000"]) {
      expect(configError(() => resolveBaseUrl("testnet", url, false)).code).toBe("EXCHANGE_HOST_NOT_ALLOWED");
      expect(resolveBaseUrl("testnet", url, true)).toBe(url);
      expect(resolveBaseUrl("production", url, true)).toBe(url);
    }
  });

  it("refuses unknown hosts, look-alikes, plain http, paths and credentials", () => {
    const bad: [string, string][] = [
      ["https://api.binance.com", "EXCHANGE_HOST_NOT_ALLOWED"],
      ["https://fapi.binance.com.evil.example", "EXCHANGE_HOST_NOT_ALLOWED"],
      ["https://evil.example/fapi.binance.com", "EXCHANGE_BASE_URL_INVALID"],
      ["http://fapi.binance.com", "EXCHANGE_BASE_URL_INVALID"],
      ["https://user:pw@fapi.binance.com", "EXCHANGE_BASE_URL_INVALID"],
      ["https://fapi.binance.com/fapi", "EXCHANGE_BASE_URL_INVALID"],
      ["https://fapi.binance.com?x=1", "EXCHANGE_BASE_URL_INVALID"],
      ["not a url", "EXCHANGE_BASE_URL_INVALID"],
      ["http://127.0.0.2:80", "EXCHANGE_HOST_NOT_ALLOWED"],
    ];
    for (const [url, code] of bad) {
      expect(configError(() => resolveBaseUrl("production", url, true)).code, url).toBe(code);
    }
  });

  it("the adapter constructor enforces the allowlist", () => {
    const ex = new BinanceUsdmExchange({ venue: "testnet", ...creds });
    expect(ex.baseUrl).toBe("https://testnet.binancefuture.com");
    expect(
      configError(
        () => new BinanceUsdmExchange({ venue: "testnet", ...creds, baseUrl: "https://fapi.binance.com" }),
      ).code,
    ).toBe("EXCHANGE_HOST_NOT_ALLOWED");
    expect(
      configError(
        () => new BinanceUsdmExchange({ venue: "production", ...creds, baseUrl: "http://127.0.0.1:1" }),
      ).code,
    ).toBe("EXCHANGE_HOST_NOT_ALLOWED");
    expect(
      configError(() => new BinanceUsdmExchange({ venue: "testnet", apiKey: "", apiSecret: "x" })).code,
    ).toBe("EXCHANGE_MISSING_CREDENTIALS");
    expect(
      configError(() => new BinanceUsdmExchange({ venue: "testnet", ...creds, timeoutMs: 0 })).code,
    ).toBe("EXCHANGE_OPTION_INVALID");
  });
});

describe("createExchange", () => {
  it("builds the venue's exchange and refuses missing credentials or Redis", async () => {
    const testnet = await createExchange("testnet", creds);
    expect(testnet).toBeInstanceOf(BinanceUsdmExchange);
    expect(testnet.venue).toBe("testnet");
    expect((testnet as BinanceUsdmExchange).baseUrl).toBe("https://testnet.binancefuture.com");
    const refused = async (p: Promise<unknown>): Promise<string> => {
      const err = await p.then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ExchangeConfigError);
      return (err as ExchangeConfigError).code;
    };
    expect(await refused(createExchange("production", {}))).toBe("EXCHANGE_MISSING_CREDENTIALS");
    expect(await refused(createExchange("paper", {}))).toBe("EXCHANGE_MISSING_REDIS");
    expect(await refused(createExchange("testnet", { ...creds, baseUrl: "https://fapi.binance.com" }))).toBe(
      "EXCHANGE_HOST_NOT_ALLOWED",
    );
    expect(PaperExchange).toBeTypeOf("function");
  });
});

describe("package entry", () => {
  it("does not load the Binance client until a live venue is created", async () => {
    const { execFileSync } = await import("node:child_process");
    const loaded = (entry: string): boolean => {
      const script = `
        import { createRequire } from "node:module";
        await import(${JSON.stringify(new URL(entry, import.meta.url).href)});
        const cache = createRequire(import.meta.url).cache;
        process.stdout.write(String(Object.keys(cache).some((k) => k.includes("/node_modules/binance/"))));`;
      return execFileSync(process.execPath, ["--input-type=module", "-e", script]).toString() === "true";
    };
    expect(loaded("../dist/index.js")).toBe(false);
    expect(loaded("../dist/binance.js")).toBe(true);
  });
});
