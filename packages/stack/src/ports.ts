import { createServer } from "node:net";

function listenOnce(port: number, host: string): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", () => resolve(null));
    srv.listen(port, host, () => {
      const addr = srv.address();
      const got = addr !== null && typeof addr !== "string" ? addr.port : null;
      srv.close(() => resolve(got));
    });
  });
}

/** Whether nothing listens on host:port right now. */
export async function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return (await listenOnce(port, host)) !== null;
}

/** A free loopback port chosen by the kernel. */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const port = await listenOnce(0, host);
  if (port === null) throw new Error(`no free port on ${host}`);
  return port;
}

/** `preferred` when it is free, else a free port; `taken` excludes ports already handed out. */
export async function pickPort(
  preferred: number | null,
  taken: ReadonlySet<number> = new Set(),
  host = "127.0.0.1",
): Promise<number> {
  if (preferred !== null && !taken.has(preferred) && (await isPortFree(preferred, host))) return preferred;
  for (;;) {
    const p = await freePort(host);
    if (!taken.has(p)) return p;
  }
}
