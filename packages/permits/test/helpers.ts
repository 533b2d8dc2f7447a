import { randomBytes } from "node:crypto";
import { keys } from "@quantum/contracts";
import { loadScripts } from "@quantum/runtime";
import type { TestRedis } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { PERMIT_SCRIPTS } from "../src/index.js";

export function newPlanId(): string {
  return randomBytes(8).toString("hex");
}

export const GOV_PERMIT = JSON.stringify({
  granted: true,
  symbol: "BTCUSDT",
  decision: "EXECUTE",
  computed_qty: 0.01,
  computed_notional: 400,
  created_at: 1769928600,
  consumed: false,
});

export const P33_PERMIT = JSON.stringify({
  allow: true,
  symbol: "BTCUSDT",
  safe_qty: 0.01,
  safe_close_qty: 0.01,
  exchange_position_amt: 0.01,
  ledger_amt: 0.01,
  created_at: 1769928600,
  reason: "sanity_checks_passed",
});

export async function setPermits(
  redis: Redis,
  planId: string,
  which: { governor?: boolean; p33?: boolean } = { governor: true, p33: true },
): Promise<void> {
  if (which.governor) await redis.set(keys.governorPermit(planId), GOV_PERMIT, "EX", 60);
  if (which.p33) await redis.set(keys.p33Permit(planId), P33_PERMIT, "EX", 60);
}

export async function permitsExist(
  redis: Redis,
  planId: string,
): Promise<{ governor: boolean; p33: boolean }> {
  const [g, p] = await Promise.all([
    redis.exists(keys.governorPermit(planId)),
    redis.exists(keys.p33Permit(planId)),
  ]);
  return { governor: g === 1, p33: p === 1 };
}

/** A client with this package's scripts loaded, as a service loads them at startup. */
export function scripted(server: TestRedis): Redis {
  const client = server.client();
  loadScripts(client, [PERMIT_SCRIPTS]);
  return client;
}
