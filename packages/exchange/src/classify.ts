import type { ExchangeFailure } from "./types.js";

/** Codes whose execution status is unknown (Binance: "execution status unknown"). */
export const UNKNOWN_CODES: ReadonlySet<number> = new Set([-1000, -1001, -1006, -1007]);
/** Rate limits: too many requests / orders, and -1008 (system throttling; nothing executed). */
export const RATE_LIMIT_CODES: ReadonlySet<number> = new Set([-1003, -1008, -1015]);
/** Credentials, signature, permissions or account mode: retrying cannot help. */
export const FATAL_CODES: ReadonlySet<number> = new Set([-1002, -1022, -2014, -2015, -4061]);
/** Transport errors raised before the request reached the server. */
const NOT_SENT_ERRNOS: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ERR_INVALID_URL",
  "ERR_BAD_OPTION",
  "ERR_BAD_OPTION_VALUE",
]);

export const DEFAULT_RETRY_AFTER_MS = 60_000;
const DEFAULT_ORDER_RATE_RETRY_MS = 10_000;
const MAX_DETAIL = 300;

export interface Classified {
  failure: ExchangeFailure;
  /** Binance error code of the answer, if any. */
  code: number | null;
  /** HTTP status of the answer, if any. */
  status: number | null;
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null;

/** A header value from axios headers (AxiosHeaders or a plain object). */
export function headerValue(headers: unknown, name: string): string | null {
  if (!isRec(headers)) return null;
  const getter = headers.get;
  const v =
    typeof getter === "function"
      ? getter.call(headers, name)
      : (headers[name] ?? headers[name.toLowerCase()]);
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  if (Array.isArray(v) && typeof v[0] === "string") return v[0];
  return null;
}

/** Retry-After in ms (delta-seconds or an HTTP date), or null. */
export function parseRetryAfter(value: string | null, nowMs = Date.now()): number | null {
  if (value === null || value.trim() === "") return null;
  const t = value.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.ceil(Number(t) * 1000);
  const date = Date.parse(t);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/** Remove secrets and signatures from any text that may end up in a log, a result or an error. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text.replace(/signature=[0-9a-zA-Z%]+/g, "signature=[redacted]");
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join("[redacted]");
  return out.length > MAX_DETAIL ? `${out.slice(0, MAX_DETAIL)}…` : out;
}

/**
 * Classify an error thrown by USDMClient (created with parseExceptions: false, so errors are axios
 * errors carrying status, body and headers) into the closed failure union. Only status, code, msg and
 * the transport error code are read: the axios config (which holds the API key) is never looked at.
 */
export function classifyError(err: unknown, secrets: readonly string[], nowMs = Date.now()): Classified {
  const e = isRec(err) ? err : {};
  const response = isRec(e.response) ? e.response : null;
  const message =
    typeof e.message === "string" ? e.message : typeof err === "string" ? err : "request failed";
  if (response !== null) {
    const status = typeof response.status === "number" ? response.status : null;
    const body = response.data;
    const code = isRec(body) && typeof body.code === "number" ? body.code : null;
    const msg = redact(
      isRec(body) && typeof body.msg === "string" ? body.msg : typeof body === "string" ? body : message,
      secrets,
    );
    const retryAfter = parseRetryAfter(headerValue(response.headers, "retry-after"), nowMs);
    if (status === 429 || status === 418 || (code !== null && RATE_LIMIT_CODES.has(code))) {
      const fallback =
        code === -1015 || code === -1008 ? DEFAULT_ORDER_RATE_RETRY_MS : DEFAULT_RETRY_AFTER_MS;
      const failure: ExchangeFailure = { kind: "rateLimited", retryAfterMs: retryAfter ?? fallback };
      if (code !== null) failure.code = code;
      return { failure, code, status };
    }
    if ((status !== null && status >= 500) || (code !== null && UNKNOWN_CODES.has(code))) {
      const detail = `http ${status ?? "?"}${code !== null ? ` code ${code}` : ""}: ${msg}`;
      return { failure: { kind: "unknown", detail: redact(detail, secrets) }, code, status };
    }
    if (code !== null && FATAL_CODES.has(code))
      return { failure: { kind: "fatal", code, msg }, code, status };
    if (code === null && status === 401)
      return { failure: { kind: "fatal", code: 0, msg: `http 401: ${msg}` }, code, status };
    return {
      failure: { kind: "rejected", code: code ?? 0, msg: code === null ? `http ${status}: ${msg}` : msg },
      code,
      status,
    };
  }
  const errno = typeof e.code === "string" ? e.code : null;
  const detail = redact(errno !== null ? `${errno}: ${message}` : message, secrets);
  const sent = e.isAxiosError === true && e.request !== undefined && e.request !== null;
  if (!sent || (errno !== null && NOT_SENT_ERRNOS.has(errno))) {
    return { failure: { kind: "notSent", detail }, code: null, status: null };
  }
  return { failure: { kind: "unknown", detail }, code: null, status: null };
}
