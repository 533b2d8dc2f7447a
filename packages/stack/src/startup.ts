import { errorText, keys, streams } from "@quantum/contracts";
import type { Redis } from "ioredis";
import { StackStartError } from "./errors/stack-start-error.js";
import { connectWithRetry, ensureNotifications } from "./redis.js";
import type { StackRedisInfo } from "./state.js";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * An existing Redis (REDIS_URL): connect, refuse one that a production Apply Layer reports to (its status
 * hash says mode=production), and switch keyspace notifications on when CONFIG allows it.
 */
export async function connectExisting(
  url: string,
  say: (line: string) => void,
): Promise<{ client: Redis; info: StackRedisInfo }> {
  const client = await connectWithRetry(url, 5000).catch((err: unknown) => {
    throw new StackStartError(`REDIS_URL: ${errorText(err)}`);
  });
  const mode = await client.hget(keys.serviceStatus("apply-layer"), "mode").catch(() => null);
  if (mode === "production") {
    client.disconnect();
    throw new StackStartError(
      "REDIS_URL: an Apply Layer in production mode reports to this Redis; the demo stack refuses to run on it",
    );
  }
  const u = new URL(url);
  const info = {
    url,
    host: u.hostname,
    port: Number(u.port || 6379),
    pid: null,
    startedByStack: false,
    dir: null,
  };
  const n = await ensureNotifications(client);
  if (n.error !== null) say(`keyspace notifications not checked (${n.error}); permit waits may poll`);
  else if (n.changed) say(`keyspace notifications switched on: "${n.before}" -> "${n.after}"`);
  return { client, info };
}

/** Until every named consumer group exists on apply.plan; false on timeout or when `alive()` turns false. */
export async function waitForGroups(
  r: Redis,
  names: readonly string[],
  timeoutMs: number,
  alive: () => boolean,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && alive()) {
    try {
      const info = (await r.xinfo("GROUPS", streams.applyPlan)) as unknown[][];
      const have = new Set(info.map((g) => String(g[1])));
      if (names.every((n) => have.has(n))) return true;
    } catch {
      // the stream does not exist until the first consumer created its group
    }
    await pause(100);
  }
  return false;
}

/** Until every symbol has a non-zero paper position; false on timeout or when `alive()` turns false. */
export async function waitForPaperPositions(
  r: Redis,
  symbols: readonly string[],
  timeoutMs: number,
  alive: () => boolean,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && alive()) {
    const p = r.pipeline();
    for (const s of symbols) p.hget(keys.paperPosition(s), "position_amt");
    const replies = (await p.exec()) ?? [];
    if (replies.every(([err, v]) => err === null && typeof v === "string" && Number(v) !== 0)) return true;
    await pause(100);
  }
  return false;
}
