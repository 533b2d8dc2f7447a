import { createHmac, timingSafeEqual } from "node:crypto";
import { errors } from "./api-error.js";

export interface AuthConfig {
  apiKey: string;
  apiSecret: string;
}

/**
 * Binance's SIGNED endpoint security: the X-MBX-APIKEY header must name the key (-2014 / -2015), the
 * `signature` is HMAC-SHA256(secret, totalParams) where totalParams is the raw query string without the
 * signature parameter concatenated with the raw body (-1022), and the timestamp must lie within recvWindow
 * of the server clock and not more than 1000 ms ahead of it (-1021).
 */
export function verifySigned(
  rawQuery: string,
  rawBody: string,
  apiKeyHeader: string | undefined,
  params: Readonly<Record<string, string>>,
  auth: AuthConfig,
  serverNowMs: number,
): void {
  if (apiKeyHeader === undefined || apiKeyHeader === "") throw errors.badApiKeyFormat();
  if (apiKeyHeader !== auth.apiKey) throw errors.rejectedApiKey();

  const parts = rawQuery.split("&").filter((p) => p !== "");
  const sigPart = parts.find((p) => p.startsWith("signature="));
  if (sigPart === undefined) throw errors.missingParam("signature");
  const payload = parts.filter((p) => p !== sigPart).join("&") + rawBody;
  const expected = createHmac("sha256", auth.apiSecret).update(payload).digest("hex");
  const given = decodeURIComponent(sigPart.slice("signature=".length)).toLowerCase();
  const a = Buffer.from(expected, "utf8");
  const b = Buffer.from(given, "utf8");
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw errors.badSignature();

  const timestamp = Number(params.timestamp);
  if (params.timestamp === undefined || !Number.isFinite(timestamp)) throw errors.missingParam("timestamp");
  const recvWindow = params.recvWindow !== undefined ? Number(params.recvWindow) : 5000;
  if (timestamp >= serverNowMs + 1000) throw errors.aheadOfServer();
  if (serverNowMs - timestamp > recvWindow) throw errors.outsideRecvWindow();
}
