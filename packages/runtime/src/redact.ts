/** Key names whose values never reach a log line, at any depth up to REDACT_DEPTH. */
export const SENSITIVE_KEYS = [
  "apiKey",
  "apiSecret",
  "api_key",
  "api_secret",
  "secret",
  "password",
  "signature",
  "authorization",
  "Authorization",
  "X-MBX-APIKEY",
  "x-mbx-apikey",
  "BINANCE_API_KEY",
  "BINANCE_API_SECRET",
  "BINANCE_TESTNET_API_KEY",
  "BINANCE_TESTNET_API_SECRET",
  "REDIS_PASSWORD",
  "REDIS_SENTINEL_PASSWORD",
  "QUANTUM_REDIS_PASSWORD",
] as const;

const REDACT_DEPTH = 4;
export const REDACTED = "[REDACTED]";

function seg(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
}

function join(prefix: string, key: string): string {
  const s = seg(key);
  if (prefix === "") return s;
  return s.startsWith("[") ? `${prefix}${s}` : `${prefix}.${s}`;
}

/** pino `redact.paths` for SENSITIVE_KEYS (plus extra) at depth 0..REDACT_DEPTH and any `config.headers`. */
export function redactPaths(extraKeys: readonly string[] = []): string[] {
  const paths: string[] = [];
  for (let depth = 0; depth <= REDACT_DEPTH; depth++) {
    const prefix = Array.from({ length: depth }, () => "*").join(".");
    for (const key of [...SENSITIVE_KEYS, ...extraKeys]) paths.push(join(prefix, key));
    if (depth < REDACT_DEPTH) paths.push(join(join(prefix, "config"), "headers"));
  }
  return paths;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const QUERY_SECRET =
  /([?&;\s](?:signature|apiKey|api_key|apiSecret|api_secret|secret|password|token)=)[^&\s"'#]+/gi;
const HEADER_SECRET =
  /((?:X-MBX-APIKEY|authorization)["']?\s*[:=]\s*["']?)(?:Bearer\s+|Basic\s+)?[^\s"',}]+/gi;
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s/]+@/gi;

/**
 * Scrub secrets out of free text (error messages, URLs, stack traces): every occurrence of a known secret
 * value, `signature=…`-style query parameters, API-key/authorization headers and URL passwords become
 * `[REDACTED]`.
 */
export function redactString(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) {
    if (s !== undefined && s.length >= 4) out = out.replace(new RegExp(escapeRegExp(s), "g"), REDACTED);
  }
  return out
    .replace(QUERY_SECRET, `$1${REDACTED}`)
    .replace(HEADER_SECRET, `$1${REDACTED}`)
    .replace(URL_CREDENTIALS, `$1${REDACTED}@`);
}
