import { errorText } from "@quantum/contracts";
import { readWhyNotTrading, type WhyNotTrading } from "@quantum/insight";
import type { RouteHandler, RouteResponse } from "@quantum/metrics";
import type { Redis } from "ioredis";
import { PAGE_HEADERS } from "./html.js";
import { renderUnreachable, renderWhyNotTrading } from "./page-html.js";

const HTML_TYPE = "text/html; charset=utf-8";
const JSON_TYPE = "application/json; charset=utf-8";

export interface StatusPageOptions {
  redis: Redis;
  /** P3.3's cooldown after a fill, seconds (the page shows the time left). */
  cooldownSec: number;
  /** Upper bound for reading the page's data; past it Redis counts as unreachable. Default 2000 ms. */
  timeoutMs?: number;
}

type Read = { ok: true; model: WhyNotTrading } | { ok: false; error: string; atIso: string };

/** JSON that can be embedded anywhere: `<`, `>` and `&` as unicode escapes. */
function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /[<>&]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * The read-only "why are we not trading?" routes of P3.5's metrics port: `/` (HTML) and `/status.json`, both
 * from one read of Redis through @quantum/insight. When Redis is not connected, or does not answer within
 * the timeout, both answer 503 saying so.
 */
export function statusPageRoutes(o: StatusPageOptions): Record<string, RouteHandler> {
  const timeoutMs = o.timeoutMs ?? 2000;
  const read = async (): Promise<Read> => {
    const now = Date.now();
    const atIso = new Date(now).toISOString();
    if (o.redis.status !== "ready")
      return { ok: false, error: `redis connection is ${o.redis.status}`, atIso };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`redis did not answer within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
    });
    try {
      const model = await Promise.race([
        readWhyNotTrading(o.redis, { nowMs: now, cooldownSec: o.cooldownSec }),
        timeout,
      ]);
      return { ok: true, model };
    } catch (err) {
      return { ok: false, error: errorText(err), atIso };
    } finally {
      clearTimeout(timer);
    }
  };
  const html = async (): Promise<RouteResponse> => {
    const r = await read();
    return r.ok
      ? { status: 200, contentType: HTML_TYPE, body: renderWhyNotTrading(r.model), headers: PAGE_HEADERS }
      : {
          status: 503,
          contentType: HTML_TYPE,
          body: renderUnreachable(r.error, r.atIso),
          headers: PAGE_HEADERS,
        };
  };
  const json = async (): Promise<RouteResponse> => {
    const r = await read();
    const body = r.ok ? r.model : { error: "redis unreachable", detail: r.error, at: r.atIso };
    return { status: r.ok ? 200 : 503, contentType: JSON_TYPE, body: safeJson(body), headers: PAGE_HEADERS };
  };
  return { "/": html, "/status.json": json };
}
