import { streams } from "@quantum/contracts";
import { eventually, startTestRedis, type TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ensureGroup, StreamConsumer, type StreamConsumerOptions } from "../src/index.js";
import { addEntries, decodeN, pendingIds, silentLogger, streamMetrics } from "./helpers.js";

let server: TestRedis;
let r: Redis;
const running: StreamConsumer<number>[] = [];
const GROUP = "g";

beforeAll(async () => {
  server = await startTestRedis();
  r = server.client();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});
afterAll(async () => {
  await server.stop();
});

type Opts = Partial<StreamConsumerOptions<number>> &
  Pick<StreamConsumerOptions<number>, "stream" | "handleBatch">;

function consumer(opts: Opts): StreamConsumer<number> {
  const c = new StreamConsumer<number>({
    redis: server.client(),
    blocking: server.client(),
    group: GROUP,
    consumer: "c1",
    service: "runtime-test",
    startId: "0",
    blockMs: 100,
    retryMinMs: 20,
    retryMaxMs: 100,
    decode: decodeN,
    logger: silentLogger,
    ...opts,
  });
  running.push(c);
  c.start();
  return c;
}

describe("StreamConsumer", () => {
  it("dead-letters a malformed entry, ACKs it and still processes the next one", async () => {
    const stream = "test:deadletter";
    const m = streamMetrics();
    await r.xadd(stream, "*", "n", "1");
    const badId = (await r.xadd(stream, "*", "n", "one", "note", "x".repeat(70_000))) as string;
    await r.xadd(stream, "*", "n", "3");
    const seen: number[] = [];
    const c = consumer({
      stream,
      metrics: m.metrics,
      handleBatch: async (items) => {
        seen.push(...items.map((i) => i.value));
        return items.map((i) => i.id);
      },
    });
    await eventually(() => seen.length === 2 && seen.join() === "1,3");
    const dl = await eventually(async () => {
      const rows = await r.xrange(streams.deadLetter, "-", "+");
      const hit = rows.find(([, f]) => f[f.indexOf("id") + 1] === badId);
      if (hit === undefined) throw new Error("no dead letter yet");
      return hit;
    });
    const fields = Object.fromEntries(dl[1].flatMap((_, i, a) => (i % 2 === 0 ? [[a[i], a[i + 1]]] : [])));
    expect(fields).toMatchObject({
      stream,
      id: badId,
      service: "runtime-test",
      error: "n: must be a whole number",
    });
    expect(Number(fields.ts)).toBeGreaterThan(1_600_000_000);
    const raw = JSON.parse(fields.raw as string) as Record<string, string>;
    expect(raw.n).toBe("one");
    expect(Buffer.byteLength(raw.note as string)).toBeLessThanOrEqual(64 * 1024);
    expect(raw.note).toMatch(/truncated 70000 bytes\]$/);
    await eventually(async () => (await c.pending()) === 0);
    expect(await m.value("quantum_deadletter_total", { stream })).toBe(1);
    expect(await m.value("quantum_stream_messages_total", { stream, outcome: "processed" })).toBe(2);
  });

  it("reclaims a crashed consumer's pending entries and processes each once", async () => {
    const stream = "test:reclaim";
    await ensureGroup(r, stream, GROUP, "0");
    const ids = await addEntries(r, stream, 3);
    const crashed = await r.xreadgroup("GROUP", GROUP, "dead", "COUNT", 10, "STREAMS", stream, ">");
    expect(crashed).not.toBeNull();
    expect(await pendingIds(r, stream, GROUP)).toEqual(ids);
    const m = streamMetrics();
    const counts = new Map<string, number>();
    consumer({
      stream,
      consumer: "c2",
      claimIdleMs: 50,
      janitorIntervalMs: 50,
      metrics: m.metrics,
      handleBatch: async (items) => {
        for (const i of items) counts.set(i.id, (counts.get(i.id) ?? 0) + 1);
        return items.map((i) => i.id);
      },
    });
    await eventually(async () => (await pendingIds(r, stream, GROUP)).length === 0);
    const [later] = await addEntries(r, stream, 1, 4);
    await eventually(() => counts.has(later as string));
    for (const id of ids) expect(counts.get(id)).toBe(1);
    expect(await m.value("quantum_stream_messages_total", { stream, outcome: "reclaimed" })).toBe(3);
  });

  it("leaves entries pending when the handler fails or skips them, and retries them", async () => {
    const stream = "test:retry";
    const ids = await addEntries(r, stream, 3);
    const calls: string[][] = [];
    let pendingDuringFailure = -1;
    consumer({
      stream,
      handleBatch: async (items) => {
        calls.push(items.map((i) => i.id));
        if (calls.length === 1) throw new Error("effect not written");
        if (calls.length === 2) {
          pendingDuringFailure = (await pendingIds(r, stream, GROUP)).length;
          return [items[0]?.id as string];
        }
        return items.map((i) => i.id);
      },
    });
    await eventually(async () => calls.length >= 3 && (await pendingIds(r, stream, GROUP)).length === 0);
    expect(calls[0]).toEqual(ids);
    expect(pendingDuringFailure).toBe(3);
    expect(calls[1]).toEqual(ids);
    expect(calls[2]).toEqual(ids.slice(1));
  });

  it("stop() during a batch ACKs what the handler confirmed and reads nothing more", async () => {
    const stream = "test:stop";
    const ids = await addEntries(r, stream, 3);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((res) => {
      release = res;
    });
    let calls = 0;
    const c = consumer({
      stream,
      handleBatch: async (items) => {
        calls++;
        await gate;
        return [items[0]?.id as string];
      },
    });
    await eventually(() => calls === 1);
    const stopped = c.stop();
    await addEntries(r, stream, 1, 4);
    release();
    await stopped;
    expect(calls).toBe(1);
    expect(await pendingIds(r, stream, GROUP)).toEqual(ids.slice(1));
    const info = await c.groupInfo();
    expect(info.lag).toBe(1);
    expect(c.alive()).toBe(false);
  });

  it("stop() while a read is blocked: the entries that read returns are handled and acknowledged", async () => {
    const stream = "test:stop-read";
    const seen: number[] = [];
    const c = consumer({
      stream,
      blockMs: 1000,
      handleBatch: async (items) => {
        seen.push(...items.map((i) => i.value));
        return items.map((i) => i.id);
      },
    });
    const blockedRead = (line: string) => / flags=b /.test(line) && / cmd=xreadgroup /.test(line);
    await eventually(async () =>
      String(await r.call("CLIENT", "LIST"))
        .split("\n")
        .some(blockedRead),
    );
    const stopped = c.stop();
    // one transaction: the waiting read is served once, with all three
    await r
      .multi()
      .xadd(stream, "*", "n", "1")
      .xadd(stream, "*", "n", "2")
      .xadd(stream, "*", "n", "3")
      .exec();
    await stopped;
    // delivered to this consumer by the read that was waiting: finished now, not left for a restart or a claim
    expect(seen).toEqual([1, 2, 3]);
    expect(await pendingIds(r, stream, GROUP)).toEqual([]);
  });

  it("stop() while idle returns within the block time", async () => {
    const stream = "test:stop-idle";
    const c = consumer({ stream, blockMs: 300, handleBatch: async (items) => items.map((i) => i.id) });
    await eventually(() => c.ready);
    const t0 = Date.now();
    await c.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it("acknowledges a whole batch with one XACK", async () => {
    const stream = "test:one-xack";
    const ids = await addEntries(r, stream, 10);
    await r.config("RESETSTAT");
    const done: string[] = [];
    const c = consumer({
      stream,
      batchSize: 10,
      handleBatch: async (items) => {
        done.push(...items.map((i) => i.id));
        return items.map((i) => i.id);
      },
    });
    await eventually(async () => done.length === 10 && (await c.pending()) === 0);
    expect(done).toEqual(ids);
    const stats = await r.info("commandstats");
    expect(stats).toMatch(/cmdstat_xack:calls=1,/);
  });

  it("overlaps batches when maxInFlight exceeds batchSize", async () => {
    const stream = "test:concurrent";
    await addEntries(r, stream, 4);
    let active = 0;
    let peak = 0;
    const gates: Array<() => void> = [];
    const c = consumer({
      stream,
      batchSize: 1,
      maxInFlight: 4,
      handleBatch: async (items) => {
        active++;
        peak = Math.max(peak, active);
        await new Promise<void>((res) => gates.push(res));
        active--;
        return items.map((i) => i.id);
      },
    });
    await eventually(() => gates.length === 4);
    expect(peak).toBe(4);
    for (const g of gates) g();
    await eventually(async () => (await c.pending()) === 0);
  });

  it("reads only into free slots: past them entries stay unread, then each is processed once", async () => {
    const stream = "test:slots";
    const ids = await addEntries(r, stream, 10);
    const capacity = 3;
    let taken = 0;
    let peak = 0;
    let refused = 0;
    let freed: () => void = () => undefined;
    const slots = {
      reserve: (wanted: number) => {
        const n = Math.min(wanted, capacity - taken);
        if (n === 0) refused++;
        taken += n;
        peak = Math.max(peak, taken);
        return n;
      },
      release: (n: number) => {
        taken -= n;
        freed();
      },
      whenFree: () =>
        new Promise<void>((res) => {
          freed = res;
        }),
    };
    let open = false;
    const waiting: Array<() => void> = [];
    const done: string[] = [];
    const c = consumer({
      stream,
      batchSize: 10,
      maxInFlight: 50,
      slots,
      handleBatch: async (items) => {
        if (!open) await new Promise<void>((res) => waiting.push(res));
        done.push(...items.map((i) => i.id));
        return items.map((i) => i.id);
      },
    });
    await eventually(() => taken === capacity && refused > 0);
    expect((await c.groupInfo()).lag).toBe(10 - capacity);
    expect(done).toEqual([]);
    open = true;
    for (const w of waiting.splice(0)) w();
    await eventually(async () => done.length === 10 && (await c.pending()) === 0);
    expect([...done].sort()).toEqual(ids);
    expect(peak).toBeLessThanOrEqual(capacity);
    await c.stop();
    expect(taken).toBe(0); // every slot given back, including those of the last (empty) blocking read
  });
});
