import { ExchangeConfigError } from "./errors/exchange-config-error.js";

export type LiveVenue = "testnet" | "production";

/** Default REST base URL per venue (no trailing slash). */
export const DEFAULT_BASE_URLS: Readonly<Record<LiveVenue, string>> = {
  testnet: "https://testnet.binancefuture.com",
  production: "https://fapi.binance.com",
};

/** Hosts each venue may talk to. The production host is accepted in production mode only. */
export const VENUE_HOSTS: Readonly<Record<LiveVenue, readonly string[]>> = {
  testnet: ["testnet.binancefuture.com", "demo-fapi.binance.com"],
  production: ["fapi.binance.com"],
};

export const LOOPBACK_HOSTS: readonly string[] = ["127.0.0.1", "localhost", "[::1]", "::1"];

/**
 * The base URL this venue may use: the default, or an override whose host is on the venue's allowlist
 * (https), or a loopback host (http or https) when `allowLoopback` is set. Anything else throws
 * ExchangeConfigError, so no configuration can point a testnet process at production or at a stray host.
 */
export function resolveBaseUrl(
  venue: LiveVenue,
  baseUrl: string | undefined,
  allowLoopback: boolean,
): string {
  const raw = baseUrl === undefined || baseUrl.trim() === "" ? DEFAULT_BASE_URLS[venue] : baseUrl.trim();
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ExchangeConfigError("EXCHANGE_BASE_URL_INVALID", `exchange base URL is not a URL: ${raw}`);
  }
  if (
    url.username !== "" ||
    url.password !== "" ||
    url.search !== "" ||
    url.hash !== "" ||
    url.pathname !== "/"
  ) {
    throw new ExchangeConfigError(
      "EXCHANGE_BASE_URL_INVALID",
      `exchange base URL must be scheme://host[:port] only: ${url.origin}`,
    );
  }
  const host = url.hostname.toLowerCase();
  const loopback = LOOPBACK_HOSTS.includes(host);
  if (loopback) {
    if (!allowLoopback) {
      throw new ExchangeConfigError(
        "EXCHANGE_HOST_NOT_ALLOWED",
        `loopback exchange host ${host} needs allowLoopback (APPLY_ALLOW_LOOPBACK_EXCHANGE=true)`,
      );
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new ExchangeConfigError("EXCHANGE_BASE_URL_INVALID", `unsupported scheme ${url.protocol}`);
    }
    return url.origin;
  }
  if (!VENUE_HOSTS[venue].includes(host)) {
    throw new ExchangeConfigError(
      "EXCHANGE_HOST_NOT_ALLOWED",
      `exchange host ${host} is not allowed for venue ${venue} (allowed: ${VENUE_HOSTS[venue].join(", ")})`,
    );
  }
  if (url.protocol !== "https:") {
    throw new ExchangeConfigError("EXCHANGE_BASE_URL_INVALID", `exchange host ${host} must use https`);
  }
  return url.origin;
}
