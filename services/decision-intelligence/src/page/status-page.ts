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
  /**
   * How long one successful read serves every request, ms. Default 1000: a hundred phones reloading cost one
   * read a second, so serving the page does not take CPU from the drain. 0 reads for every request.
   */
  maxAgeMs?: number;
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
 * from one read of Redis through @quantum/insight. Requests share reads: while one is running, further requests
 * wait for it, and a successful read answers every request for `maxAgeMs` after it started. When Redis is not
 * connected, or does not answer within the timeout, both answer 503 saying so (a failed read is not reused).
 */
export function statusPageRoutes(o: StatusPageOptions): Record<string, RouteHandler> {
  const timeoutMs = o.timeoutMs ?? 2000;
  const maxAgeMs = o.maxAgeMs ?? 1000;
  let running: Promise<Read> | null = null;
  let last: { read: Read; startedAt: number } | null = null;
  const read = (): Promise<Read> => {
    const now = Date.now();
    if (last !== null && last.read.ok && now - last.startedAt < maxAgeMs) return Promise.resolve(last.read);
    if (running === null) {
      running = readOnce(now).then((r) => {
        last = { read: r, startedAt: now };
        running = null;
        return r;
      });
    }
    return running;
  };
  const readOnce = async (now: number): Promise<Read> => {
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
  // A shared read is rendered once per format, whichever request needs it first.
  const rendered = new WeakMap<Read, { html?: RouteResponse; json?: RouteResponse }>();
  const renderedOf = (r: Read) => {
    const entry = rendered.get(r) ?? {};
    rendered.set(r, entry);
    return entry;
  };
  const html = async (): Promise<RouteResponse> => {
    const r = await read();
    const entry = renderedOf(r);
    entry.html ??= r.ok
      ? { status: 200, contentType: HTML_TYPE, body: renderWhyNotTrading(r.model), headers: PAGE_HEADERS }
      : {
          status: 503,
          contentType: HTML_TYPE,
          body: renderUnreachable(r.error, r.atIso),
          headers: PAGE_HEADERS,
        };
    return entry.html;
  };
  const json = async (): Promise<RouteResponse> => {
    const r = await read();
    const entry = renderedOf(r);
    if (entry.json === undefined) {
      const body = r.ok ? r.model : { error: "redis unreachable", detail: r.error, at: r.atIso };
      entry.json = {
        status: r.ok ? 200 : 503,
        contentType: JSON_TYPE,
        body: safeJson(body),
        headers: PAGE_HEADERS,
      };
    }
    return entry.json;
  };
  return { "/": html, "/status.json": json };
}
