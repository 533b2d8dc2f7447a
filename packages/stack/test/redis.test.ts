import { startTestRedis, type TestRedis } from "@quantum/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeClient, connectWithRetry, ensureNotifications, notificationsSufficient } from "../src/index.js";

let off: TestRedis;
beforeAll(async () => {
  off = await startTestRedis({ notifyKeyspaceEvents: "" });
});
afterAll(async () => {
  await off?.stop();
});

describe("keyspace notifications on an existing Redis", () => {
  it.each([
    ["", false],
    ["KEA", true],
    ["AK", true],
    ["Kg$htx", true],
    ["Kg$tx", false],
    ["Kg$", false],
    ["EA", false],
  ])("notificationsSufficient(%j) = %s", (flags, ok) => {
    expect(notificationsSufficient(flags)).toBe(ok);
  });

  it("switches them on when they are off, and changes nothing when they are on", async () => {
    const r = await connectWithRetry(off.url(0), 5000);
    try {
      const first = await ensureNotifications(r);
      expect(first).toMatchObject({ before: "", changed: true, error: null });
      expect(notificationsSufficient(first.after ?? "")).toBe(true);
      const again = await ensureNotifications(r);
      expect(again).toMatchObject({ changed: false, before: first.after });
    } finally {
      await closeClient(r);
    }
  });

  it("keeps flags that were already set", async () => {
    const r = await connectWithRetry(off.url(0), 5000);
    try {
      await r.config("SET", "notify-keyspace-events", "Ex");
      const rep = await ensureNotifications(r);
      expect(rep.changed).toBe(true);
      expect(rep.after).toContain("E");
      expect(rep.after).toContain("K");
      expect(notificationsSufficient(rep.after ?? "")).toBe(true);
    } finally {
      await closeClient(r);
    }
  });

  it("fails fast with a clear error when nothing listens", async () => {
    await expect(connectWithRetry("redis://127.0.0.1:1/0", 300)).rejects.toThrow(/not reachable/);
  });
});
