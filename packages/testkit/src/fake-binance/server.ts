import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { cancelAlgoOrder, newAlgoOrder, queryAlgoOrder } from "./algo.js";
import { errors, FakeApiError } from "./api-error.js";
import { verifySigned } from "./auth.js";
import { FakeEngine, type Params } from "./engine.js";
import { FakeRateLimiter } from "./rate-limits.js";
import type {
  FakeBinance,
  FakeBinanceOptions,
  FakeDelayRange,
  FakeFault,
  FakeFaultSpec,
  FakeRequestRecord,
  FakeSymbolSpec,
} from "./types.js";

/** Filters as Binance USDⓈ-M publishes them for these contracts (values of a 2025 exchangeInfo). */
export const DEFAULT_FAKE_SYMBOLS: readonly FakeSymbolSpec[] = [
  {
    symbol: "BTCUSDT",
    stepSize: "0.001",
    minQty: "0.001",
    maxQty: "1000",
    marketMaxQty: "120",
    tickSize: "0.10",
    minNotional: "100",
  },
  {
    symbol: "ETHUSDT",
    stepSize: "0.001",
    minQty: "0.001",
    maxQty: "10000",
    marketMaxQty: "2000",
    tickSize: "0.01",
    minNotional: "20",
  },
  {
    symbol: "SOLUSDT",
    stepSize: "1",
    minQty: "1",
    maxQty: "1000000",
    marketMaxQty: "5000",
    tickSize: "0.0100",
    minNotional: "5",
  },
  {
    symbol: "XRPUSDT",
    stepSize: "0.1",
    minQty: "0.1",
    maxQty: "10000000",
    marketMaxQty: "2000000",
    tickSize: "0.0001",
    minNotional: "5",
  },
];

interface Route {
  signed: boolean;
  /** IP request weight (X-MBX-USED-WEIGHT-1M). */
  weight: number;
  /** Counts toward the order limits (X-MBX-ORDER-COUNT-10S / -1M). */
  order: boolean;
  handle(params: Params, serverNowMs: number): unknown;
}

type ActiveFault = FakeFaultSpec & { remaining: number };

/**
 * A loopback HTTP server speaking the Binance USDⓈ-M REST endpoints the exchange adapter uses, with
 * Binance's request signing, recvWindow, error codes, rate limits (429 / 418 with Retry-After, see
 * rate-limits.ts) and rate-limit headers, and injectable faults.
 * Only node:http and node:crypto; binds 127.0.0.1 on a kernel-chosen port.
 */
export async function startFakeBinance(opts: FakeBinanceOptions): Promise<FakeBinance> {
  const engine = new FakeEngine([...(opts.symbols ?? DEFAULT_FAKE_SYMBOLS)], opts.dualSidePosition ?? false);
  for (const p of opts.positions ?? []) {
    engine.setPosition(p.symbol, p.positionAmt, p.markPrice, {
      ...(p.entryPrice !== undefined ? { entryPrice: p.entryPrice } : {}),
      ...(p.positionSide !== undefined ? { positionSide: p.positionSide } : {}),
      ...(p.leverage !== undefined ? { leverage: p.leverage } : {}),
    });
  }
  let skewMs = opts.clockSkewMs ?? 0;
  const serverNow = (): number => Date.now() + skewMs;
  let faults: ActiveFault[] = [];
  let replyDelay: FakeDelayRange | null = opts.replyDelayMs ?? null;
  const posts = new Map<string, number>();
  let postsTotal = 0;
  let log: FakeRequestRecord[] = [];
  const limiter = new FakeRateLimiter(opts.rateLimits);
  const refusals = { status429: 0, status418: 0 };

  const routes: Record<string, Route> = {
    "GET /fapi/v1/ping": { signed: false, weight: 1, order: false, handle: () => ({}) },
    "GET /fapi/v1/time": {
      signed: false,
      weight: 1,
      order: false,
      handle: (_p, now) => ({ serverTime: now }),
    },
    "GET /fapi/v1/exchangeInfo": {
      signed: false,
      weight: 1,
      order: false,
      handle: (_p, now) => engine.exchangeInfo(now),
    },
    "GET /fapi/v2/positionRisk": {
      signed: true,
      weight: 5,
      order: false,
      handle: (p, now) => engine.positionRisk(p, now),
    },
    "GET /fapi/v1/positionSide/dual": {
      signed: true,
      weight: 30,
      order: false,
      handle: () => ({ dualSidePosition: engine.dualSidePosition }),
    },
    "POST /fapi/v1/order": {
      signed: true,
      weight: 0,
      order: true,
      handle: (p, now) => engine.newOrder(p, now),
    },
    "GET /fapi/v1/order": { signed: true, weight: 1, order: false, handle: (p) => engine.queryOrder(p) },
    "DELETE /fapi/v1/order": {
      signed: true,
      weight: 1,
      order: false,
      handle: (p, now) => engine.cancelOrder(p, now),
    },
    "POST /fapi/v1/algoOrder": {
      signed: true,
      weight: 0,
      order: true,
      handle: (p, now) => newAlgoOrder(engine, p, now),
    },
    "GET /fapi/v1/algoOrder": {
      signed: true,
      weight: 1,
      order: false,
      handle: (p) => queryAlgoOrder(engine, p),
    },
    "DELETE /fapi/v1/algoOrder": {
      signed: true,
      weight: 1,
      order: false,
      handle: (p, now) => cancelAlgoOrder(engine, p, now),
    },
  };

  const takeFault = (method: string, path: string, params: Params): FakeFault | null => {
    const about = params.newClientOrderId ?? params.clientAlgoId ?? params.origClientOrderId;
    const i = faults.findIndex(
      (f) =>
        f.method.toUpperCase() === method &&
        f.path === path &&
        f.remaining > 0 &&
        (f.clientOrderId === undefined || f.clientOrderId === about),
    );
    if (i < 0) return null;
    const f = faults[i]!;
    f.remaining -= 1;
    if (f.remaining <= 0) faults.splice(i, 1);
    return f;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const path = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
    const rawQuery = q >= 0 ? rawUrl.slice(q + 1) : "";
    const rawBody = await readBody(req);
    const params: Record<string, string> = {
      ...Object.fromEntries(new URLSearchParams(rawQuery)),
      ...Object.fromEntries(new URLSearchParams(rawBody)),
    };
    delete params.signature;
    const method = (req.method ?? "GET").toUpperCase();
    const record: FakeRequestRecord = {
      method,
      path,
      params,
      status: null,
      code: null,
      fault: null,
      atMs: Date.now(),
    };
    log.push(record);
    res.once("finish", () => {
      if (res.statusCode === 429) refusals.status429 += 1;
      else if (res.statusCode === 418) refusals.status418 += 1;
    });
    if (method === "POST" && ORDER_PATHS.has(path)) {
      postsTotal += 1;
      const id = params.newClientOrderId ?? params.clientAlgoId;
      if (id !== undefined) posts.set(id, (posts.get(id) ?? 0) + 1);
    }
    const route = routes[`${method} ${path}`];
    const admission =
      route === undefined ? ({ kind: "ok" } as const) : limiter.admit(route.weight, route.order, serverNow());
    const counts = limiter.counts(serverNow());
    const headers: Record<string, string> = { "X-MBX-USED-WEIGHT-1M": String(counts.weight) };
    if (route?.order) {
      headers["X-MBX-ORDER-COUNT-10S"] = String(counts.ordersShort);
      headers["X-MBX-ORDER-COUNT-1M"] = String(counts.ordersLong);
    }
    try {
      if (route === undefined) throw errors.notFound();
      if (admission.kind === "refused") {
        headers["Retry-After"] = String(admission.retryAfterSec);
        throw new FakeApiError(admission.code, admission.msg, admission.status);
      }
      if (route.signed) {
        const key = req.headers["x-mbx-apikey"];
        verifySigned(rawQuery, rawBody, Array.isArray(key) ? key[0] : key, params, opts, serverNow());
      }
      let fault = takeFault(method, path, params);
      if (fault?.kind === "slow") {
        record.fault = fault.kind;
        await sleep(fault.delayMs);
        fault = null;
      }
      if (fault !== null) {
        record.fault = fault.kind;
        switch (fault.kind) {
          case "hang":
            return;
          case "dropAfterFill":
            try {
              route.handle(params, serverNow());
            } finally {
              req.socket.destroy();
            }
            return;
          case "statusAfterFill": {
            const body = route.handle(params, serverNow());
            const status = fault.status ?? 202;
            await sleep(pickDelay(replyDelay));
            record.status = status;
            sendJson(res, status, body, headers);
            return;
          }
          case "garbledAfterFill": {
            route.handle(params, serverNow());
            await sleep(pickDelay(replyDelay));
            record.status = 200;
            send(res, 200, fault.body ?? '{"orderId":4000000001,"status":"FIL', {
              ...headers,
              "Content-Type": "application/json",
            });
            return;
          }
          case "reject":
            throw new FakeApiError(fault.code, fault.msg, fault.status ?? 400);
          case "serverError": {
            const status = fault.status ?? 503;
            record.status = status;
            send(res, status, fault.body ?? "<html><body><h1>503 Service Unavailable</h1></body></html>", {
              ...headers,
              "Content-Type": "text/html",
            });
            return;
          }
          case "rateLimit": {
            const status = fault.status ?? 429;
            const retryAfterSec = fault.retryAfterSec ?? 60;
            headers["Retry-After"] = String(retryAfterSec);
            const until = serverNow() + retryAfterSec * 1000;
            throw new FakeApiError(
              fault.code ?? -1003,
              status === 418
                ? `Way too many requests; IP banned until ${until}. Please use the websocket for live updates to avoid bans.`
                : "Too many requests; current limit is 2400 requests per minute. Please use the websocket for live updates to avoid polling the API.",
              status,
            );
          }
        }
      }
      const body = route.handle(params, serverNow());
      await sleep(pickDelay(replyDelay));
      record.status = 200;
      sendJson(res, 200, body, headers);
    } catch (err) {
      const e =
        err instanceof FakeApiError
          ? err
          : new FakeApiError(-1000, "An unknown error occured while processing the request.", 500);
      await sleep(pickDelay(replyDelay));
      record.status = e.status;
      record.code = e.code;
      sendJson(res, e.status, { code: e.code, msg: e.message }, headers);
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    setPosition(symbol, positionAmt, markPrice, o = {}) {
      engine.setPosition(symbol, positionAmt, markPrice, o);
    },
    position: (symbol, side) => engine.position(symbol, side),
    orders: () => engine.all.map((o) => ({ ...o })),
    ordersFor: (clientOrderId) =>
      engine.all.filter((o) => o.clientOrderId === clientOrderId).map((o) => ({ ...o })),
    counts(clientOrderId) {
      if (clientOrderId === undefined) {
        let fills = 0;
        for (const n of engine.fills.values()) fills += n;
        return { posts: postsTotal, fills };
      }
      return { posts: posts.get(clientOrderId) ?? 0, fills: engine.fills.get(clientOrderId) ?? 0 };
    },
    setReplyDelay(range) {
      replyDelay = range;
    },
    injectFault(spec) {
      faults.push({ ...spec, remaining: spec.times ?? 1 });
    },
    clearFaults() {
      faults = [];
    },
    placeOrder: (params) => engine.newOrder(params, serverNow()),
    requests: () => log.map((r) => ({ ...r, params: { ...r.params } })),
    clearRequests() {
      log = [];
    },
    setClockSkew(ms) {
      skewMs = ms;
    },
    setDualSidePosition(dual) {
      engine.dualSidePosition = dual;
    },
    usedWeight1m: () => limiter.counts(serverNow()).weight,
    orderCount1m: () => limiter.counts(serverNow()).ordersLong,
    orderCount10s: () => limiter.counts(serverNow()).ordersShort,
    addRateLimitUsage(usage) {
      limiter.addUsage(usage, serverNow());
    },
    rateLimitRefusals: () => ({ ...refusals }),
    resetRateLimits() {
      limiter.reset();
      refusals.status429 = 0;
      refusals.status418 = 0;
    },
  };
}

const ORDER_PATHS: ReadonlySet<string> = new Set(["/fapi/v1/order", "/fapi/v1/algoOrder"]);

/** A random delay in the range (0 without one). */
function pickDelay(range: FakeDelayRange | null): number {
  if (range === null) return 0;
  return range.minMs + Math.floor(Math.random() * (range.maxMs - range.minMs + 1));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
  res.writeHead(status, { ...headers, "Content-Length": String(Buffer.byteLength(body)) });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  send(res, status, JSON.stringify(body), { ...headers, "Content-Type": "application/json" });
}
