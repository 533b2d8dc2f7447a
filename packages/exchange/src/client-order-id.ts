import { createHash } from "node:crypto";

/** Binance's rule for newClientOrderId / clientAlgoId. */
export const CLIENT_ORDER_ID_PATTERN = /^[.A-Z:/a-z0-9_-]{1,36}$/;

const PREFIX = "qp3";
/** What an order of a plan is for: the reduce-only close, or the protective STOP_MARKET of UPDATE_SL. */
export type ClientOrderPurpose = "close" | "stop";
const PURPOSE_TAG: Record<ClientOrderPurpose, string> = { close: "c", stop: "s" };
const MAX_LEN = 36;
const SAFE_PLAN_ID = /^[A-Za-z0-9_-]+$/;

/**
 * Deterministic client order id of a plan: `qp3-c-<planId>` (close) or `qp3-s-<planId>` (stop).
 * Depends only on its inputs, so a restarted process derives the same id and can look the order up
 * instead of sending a second one. A plan id that is too long or has other characters is replaced by
 * the first 24 hex chars of its SHA-256 (still deterministic). Always ≤ 36 chars of [.A-Z:/a-z0-9_-].
 */
export function clientOrderIdFor(planId: string, purpose: ClientOrderPurpose = "close"): string {
  const head = `${PREFIX}-${PURPOSE_TAG[purpose]}-`;
  const body =
    planId.length > 0 && SAFE_PLAN_ID.test(planId) && head.length + planId.length <= MAX_LEN
      ? planId
      : createHash("sha256").update(planId).digest("hex").slice(0, 24);
  return head + body;
}

export function isValidClientOrderId(id: string): boolean {
  return CLIENT_ORDER_ID_PATTERN.test(id);
}
