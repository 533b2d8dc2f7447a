import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type ThrottleGrant, type ThrottleRefusal, VenueThrottle } from "../src/index.js";

type Lim = "weight" | "orders";
const LIMITS = { weight: { limit: 100, intervalMs: 60_000 }, orders: { limit: 10, intervalMs: 1_000 } };

function throttle(over: { sharePct?: number; maxWaitMs?: number } = {}): VenueThrottle<Lim> {
  return new VenueThrottle<Lim>({ limits: LIMITS, now: () => Date.now(), maxWaitMs: 30_000, ...over });
}

/** Acquire and settle at once (answered immediately); returns the grant. */
async function send(
  t: VenueThrottle<Lim>,
  cost: { weight?: number; orders?: number },
): Promise<ThrottleGrant> {
  const g = await t.acquire(cost);
  if (!g.ok) throw new Error(`refused: ${g.reason}`);
  g.settle();
  return g;
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("VenueThrottle", () => {
  it("paces a burst to the limit per interval and reports how long each waited", async () => {
    const t = throttle();
    await send(t, { orders: 1 }); // learns nothing from headers, but answered: the window is known
    const pending = Array.from({ length: 19 }, () => t.acquire({ orders: 1 }));
    const granted: number[] = [];
    for (const [i, p] of pending.entries()) {
      void p.then((g) => {
        if (g.ok) {
          granted.push(i);
          g.settle();
        }
      });
    }
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toHaveLength(9);
    expect(t.state()).toMatchObject({ waiting: 10, windows: { orders: { used: 10 } } });
    await vi.advanceTimersByTimeAsync(999);
    expect(granted).toHaveLength(9);
    await vi.advanceTimersByTimeAsync(1);
    expect(granted).toHaveLength(19);
    expect(granted).toEqual([...granted].sort((a, b) => a - b)); // FIFO
    const last = (await pending[18]) as ThrottleGrant;
    expect(last.waitedMs).toBe(1_000);
  });

  it("holds every request while a Retry-After runs, then lets the next one go", async () => {
    const t = throttle();
    t.block(2_000);
    expect(t.state().blockedUntilMs).toBe(Date.now() + 2_000);
    let got: ThrottleGrant | ThrottleRefusal | null = null;
    void t.acquire({ weight: 1 }).then((g) => {
      got = g;
    });
    await vi.advanceTimersByTimeAsync(1_999);
    expect(got).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(got).toMatchObject({ ok: true, waitedMs: 2_000 });
    expect(t.state().blockedUntilMs).toBe(0);
  });

  it("refuses at once, unsent, when the wait would pass the bound", async () => {
    const t = throttle({ maxWaitMs: 500 });
    t.block(2_000);
    expect(await t.acquire({ orders: 1 })).toEqual({
      ok: false,
      reason: "wouldExceedMaxWait",
      retryAfterMs: 2_000,
      waitedMs: 0,
    });
    expect(await t.acquire({ orders: 1 }, { maxWaitMs: 0 })).toMatchObject({ ok: false });
    const ok = t.acquire({ orders: 1 }, { maxWaitMs: 5_000 });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await ok).toMatchObject({ ok: true });
  });

  it("an aborted wait resolves unsent and frees its place", async () => {
    const t = throttle();
    t.block(1_000);
    const ac = new AbortController();
    const waiting = t.acquire({ orders: 1 }, { signal: ac.signal });
    expect(t.state().waiting).toBe(1);
    ac.abort();
    expect(await waiting).toMatchObject({ ok: false, reason: "aborted" });
    expect(t.state().waiting).toBe(0);
    expect(await t.acquire({}, { signal: ac.signal })).toMatchObject({ ok: false, reason: "aborted" });
  });

  it("a waiter on one limit does not hold back requests on another", async () => {
    const t = throttle();
    for (let i = 0; i < 10; i++) await send(t, { orders: 1 });
    const order = t.acquire({ orders: 1 });
    const read = await t.acquire({ weight: 1 });
    expect(read).toMatchObject({ ok: true, waitedMs: 0 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await order).toMatchObject({ ok: true, waitedMs: 1_000 });
  });

  it("the venue's higher count slows the process down; a share leaves room for others", async () => {
    const t = throttle({ sharePct: 50 });
    await send(t, { orders: 1 });
    t.observe("orders", 9); // eight by another process
    const g = t.acquire({ orders: 1 });
    // 1 answered + 1 in flight + 8 external = the account's 10: it fits at once.
    expect(t.state().windows.orders).toMatchObject({ budget: 5, used: 2, external: 8, limit: 10 });
    await send(t, { weight: 1 }); // other limits unaffected
    await vi.advanceTimersByTimeAsync(0);
    expect(t.state().waiting).toBe(0); // 1 + 8 + 1 = 10 fits the account's limit
    const granted = await g;
    expect(granted.ok).toBe(true);
    if (granted.ok) granted.settle();
    const h = t.acquire({ orders: 1 });
    await vi.advanceTimersByTimeAsync(999);
    expect(t.state().waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect((await h).ok).toBe(true);
  });

  it("waits at most 1 s by default", async () => {
    const t = new VenueThrottle<Lim>({ limits: LIMITS, now: () => Date.now() });
    expect(t.maxWaitMs).toBe(1_000);
    t.block(1_500);
    expect(await t.acquire({ weight: 1 })).toMatchObject({ ok: false, reason: "wouldExceedMaxWait" });
  });

  it("a bounded wait on pacing gives up with an estimate of when it could go", async () => {
    const t = throttle({ maxWaitMs: 300 });
    for (let i = 0; i < 10; i++) await send(t, { orders: 1 });
    expect(await t.acquire({ orders: 1 })).toEqual({
      ok: false,
      reason: "wouldExceedMaxWait",
      retryAfterMs: 1_000,
      waitedMs: 0,
    });
  });
});
