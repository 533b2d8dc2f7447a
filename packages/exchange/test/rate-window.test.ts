import { describe, expect, it } from "vitest";
import { RateWindow } from "../src/index.js";

const TEN_S = { limit: 300, intervalMs: 10_000 };

/** Send `n` requests of cost 1 at `atMs`, answered at the same time (so the count is known). */
function sendAnswered(w: RateWindow, n: number, atMs: number): void {
  for (let i = 0; i < n; i++) {
    expect(w.fits(1, atMs)).toBe(true);
    w.take(1);
    w.settle(1, atMs);
  }
}

describe("RateWindow: sliding-window arithmetic", () => {
  it("admits the limit within one interval, then the next unit exactly one interval after the first answer", () => {
    const w = new RateWindow(TEN_S);
    sendAnswered(w, 300, 1_000);
    expect(w.fits(1, 1_000)).toBe(false);
    expect(w.nextFitMs(1, 1_000)).toBe(11_000);
    expect(w.fits(1, 10_999)).toBe(false);
    expect(w.fits(1, 11_000)).toBe(true);
    expect(w.state(11_000)).toMatchObject({ used: 0, external: 0, inFlight: 0 });
  });

  it("charges a unit until one interval after its answer, not after its send", () => {
    const w = new RateWindow({ limit: 2, intervalMs: 1_000 });
    sendAnswered(w, 1, 0);
    w.take(1); // sent at 0, answered only at 700
    expect(w.fits(1, 0)).toBe(false);
    expect(w.nextFitMs(1, 500)).toBe(1_000); // the first answer expires; the one in flight holds its unit
    w.settle(1, 700);
    expect(w.fits(1, 1_000)).toBe(true);
    w.take(1);
    expect(w.fits(1, 1_000)).toBe(false);
    expect(w.nextFitMs(1, 1_000)).toBe(1_700);
    const one = new RateWindow({ limit: 1, intervalMs: 1_000 });
    one.take(1);
    expect(one.nextFitMs(1, 0)).toBe(Number.POSITIVE_INFINITY); // only its answer can free room
    one.settle(1, 300);
    expect(one.nextFitMs(1, 300)).toBe(1_300);
  });

  it("a share keeps the process to its part of the limit", () => {
    const w = new RateWindow(TEN_S, 80);
    expect(w.budget).toBe(240);
    sendAnswered(w, 240, 0);
    expect(w.fits(1, 0)).toBe(false);
    expect(new RateWindow({ limit: 3, intervalMs: 1 }, 10).budget).toBe(1);
    expect(() => new RateWindow(TEN_S, 0)).toThrow(RangeError);
    expect(() => new RateWindow(TEN_S, 101)).toThrow(RangeError);
  });

  it("adopts the venue's count when it is higher: the difference is another client's use", () => {
    const w = new RateWindow(TEN_S, 90);
    sendAnswered(w, 10, 0);
    w.observe(10, 0); // our own ten: nothing external
    expect(w.state(0).external).toBe(0);
    w.observe(250, 100); // 240 by someone else
    expect(w.state(100)).toMatchObject({ used: 10, external: 240 });
    w.observe(255, 200); // five more by them; only the difference is added
    expect(w.state(200).external).toBe(245);
    // Own budget 270 would allow 260 more, but the account's 300 allows only 45.
    sendAnswered(w, 45, 200);
    expect(w.fits(1, 200)).toBe(false);
    // Room comes back when the external use, then our units, leave the interval.
    expect(w.nextFitMs(1, 200)).toBe(10_000);
    expect(w.fits(1, 10_100)).toBe(true);
    expect(w.state(10_150)).toMatchObject({ external: 5, used: 45 });
  });

  it("sends one request at a time until the venue's count is known", () => {
    const w = new RateWindow(TEN_S);
    expect(w.fits(1, 0)).toBe(true);
    w.take(1);
    expect(w.fits(1, 0)).toBe(false);
    expect(w.nextFitMs(1, 0)).toBe(Number.POSITIVE_INFINITY);
    w.settle(1, 50);
    expect(w.fits(1, 50)).toBe(true);
    w.take(1);
    expect(w.fits(1, 60)).toBe(true); // known now: bursts are allowed
    // After a quiet interval the count is unknown again.
    w.settle(1, 60);
    w.take(1);
    expect(w.fits(1, 10_100)).toBe(false);
  });

  it("a request heavier than the budget goes alone into an empty window", () => {
    const w = new RateWindow({ limit: 40, intervalMs: 1_000 }, 50);
    expect(w.fits(30, 0)).toBe(true);
    w.take(30);
    w.settle(30, 0);
    expect(w.fits(1, 10)).toBe(false);
    expect(w.nextFitMs(30, 10)).toBe(1_000);
    expect(w.fits(0, 10)).toBe(true);
  });
});
