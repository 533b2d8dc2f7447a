import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** What the proxy does with the next matching requests. */
export interface ProxyRule {
  method: string;
  path: string;
  /** How many matching requests the rule applies to (default 1). */
  times?: number;
  /** Awaited after the request arrived and before it is forwarded (the request is "in flight" meanwhile). */
  before?: () => Promise<void>;
  /** Answer with this HTTP status instead of the venue's (the venue's body is kept). */
  status?: number;
}

export interface VenueProxy {
  readonly baseUrl: string;
  addRule(rule: ProxyRule): void;
  /** Requests forwarded (method + path), in arrival order. */
  seen(): { method: string; path: string }[];
  close(): Promise<void>;
}

/**
 * A real HTTP hop in front of the FakeBinance, for faults the fake does not offer: a request held in flight
 * while the test changes Redis, a venue answer re-labelled with another 2xx status, and answers that arrive
 * some time after the venue acted.
 */
export async function startVenueProxy(
  targetBaseUrl: string,
  opts: { latencyMs?: () => number } = {},
): Promise<VenueProxy> {
  const target = new URL(targetBaseUrl);
  const rules: (ProxyRule & { left: number })[] = [];
  const seen: { method: string; path: string }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const method = req.method ?? "GET";
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      seen.push({ method, path });
      const rule = rules.find((r) => r.left > 0 && r.method === method && r.path === path);
      if (rule !== undefined) rule.left--;
      const forward = (): void => {
        const up = request(
          {
            host: target.hostname,
            port: target.port,
            method,
            path: req.url,
            headers: { ...req.headers, host: target.host },
          },
          (upRes) => {
            const body: Buffer[] = [];
            upRes.on("data", (c: Buffer) => body.push(c));
            upRes.on("end", () => {
              const answer = (): void => {
                res.writeHead(rule?.status ?? upRes.statusCode ?? 502, upRes.headers);
                res.end(Buffer.concat(body));
              };
              // Latency after the venue acted (an order is filled before its answer arrives).
              const delay = opts.latencyMs?.() ?? 0;
              if (delay > 0) setTimeout(answer, delay);
              else answer();
            });
          },
        );
        up.on("error", () => res.destroy());
        up.end(Buffer.concat(chunks));
      };
      const before = rule?.before;
      if (before === undefined) forward();
      else before().then(forward, () => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    addRule: (rule) => rules.push({ ...rule, left: rule.times ?? 1 }),
    seen: () => [...seen],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
