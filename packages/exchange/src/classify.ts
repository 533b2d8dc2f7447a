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

/** What an answer from the venue looks like, whichever shape the library threw it in. */
interface Answer {
  status: number | null;
  body: unknown;
  headers: unknown;
}

/**
 * The venue's answer inside a thrown value, or null when there is none. USDMClient throws three shapes:
 * an axios error with `response` (a status outside 2xx), the raw axios response itself (a 2xx other than
 * 200), and, with parseExceptions on, a plain `{code, message, body, headers}`. Only status, body and
 * headers are read; the request config (which holds the API key) never is.
 */
function answerOf(e: Rec): Answer | null {
  if (isRec(e.response)) {
    const r = e.response;
    return { status: typeof r.status === "number" ? r.status : null, body: r.data, headers: r.headers };
  }
  if (e.isAxiosError !== true && typeof e.status === "number" && "data" in e) {
    return { status: e.status, body: e.data, headers: e.headers };
  }
  if (e.isAxiosError !== true && "body" in e && isRec(e.headers)) {
    return { status: null, body: e.body, headers: e.headers };
  }
  return null;
}

/**
 * Classify an error thrown by USDMClient into the closed failure union, fail-safe: `notSent` only when
 * the request provably never left this process (connection refused, DNS failure, a request axios
 * refused to build); an explicit Binance error code on a 4xx is `rejected` / `fatal` / `rateLimited`;
 * everything else — any other HTTP status, a 2xx other than 200, a body without a code, a thrown value
 * of unknown shape — is `unknown`, for the caller to resolve by looking the order up by client id.
 */
export function classifyError(err: unknown, secrets: readonly string[], nowMs = Date.now()): Classified {
  const e = isRec(err) ? err : {};
  const message =
    typeof e.message === "string" ? e.message : typeof err === "string" ? err : "request failed";
  const answer = answerOf(e);
  if (answer !== null) return classifyAnswer(answer, message, secrets, nowMs);
  const errno = typeof e.code === "string" ? e.code : null;
  const detail = redact(errno !== null ? `${errno}: ${message}` : message, secrets);
  const axiosBuiltNoRequest = e.isAxiosError === true && (e.request === undefined || e.request === null);
  if (axiosBuiltNoRequest || (errno !== null && NOT_SENT_ERRNOS.has(errno))) {
    return { failure: { kind: "notSent", detail }, code: null, status: null };
  }
  return { failure: { kind: "unknown", detail }, code: null, status: null };
}

function classifyAnswer(a: Answer, message: string, secrets: readonly string[], nowMs: number): Classified {
  const { status, body } = a;
  const coded = status === null || status >= 400;
  const code = coded && isRec(body) && typeof body.code === "number" ? body.code : null;
  const msg = redact(
    isRec(body) && typeof body.msg === "string" ? body.msg : typeof body === "string" ? body : message,
    secrets,
  );
  const retryAfter = parseRetryAfter(headerValue(a.headers, "retry-after"), nowMs);
  if (status === 429 || status === 418 || (code !== null && RATE_LIMIT_CODES.has(code))) {
    const fallback = code === -1015 || code === -1008 ? DEFAULT_ORDER_RATE_RETRY_MS : DEFAULT_RETRY_AFTER_MS;
    const failure: ExchangeFailure = { kind: "rateLimited", retryAfterMs: retryAfter ?? fallback };
    if (code !== null) failure.code = code;
    return { failure, code, status };
  }
  if (code === null || UNKNOWN_CODES.has(code) || (status !== null && status >= 500)) {
    const detail = `http ${status ?? "?"}${code !== null ? ` code ${code}` : ""}: ${msg}`;
    return { failure: { kind: "unknown", detail: redact(detail, secrets) }, code, status };
  }
  if (FATAL_CODES.has(code)) return { failure: { kind: "fatal", code, msg }, code, status };
  return { failure: { kind: "rejected", code, msg }, code, status };
}
