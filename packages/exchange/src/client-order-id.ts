import { createHash } from "node:crypto";

/** Binance's rule for newClientOrderId / clientAlgoId. */
export const CLIENT_ORDER_ID_PATTERN = /^[.A-Z:/a-z0-9_-]{1,36}$/;

const PREFIX = "qp3";
/**
 * What an order of a plan is for: the reduce-only close, the protective STOP_MARKET of UPDATE_SL, or the
 * previous protective stop placed again when its replacement was refused.
 */
export type ClientOrderPurpose = "close" | "stop" | "restore";
const PURPOSE_TAG: Record<ClientOrderPurpose, string> = { close: "c", stop: "s", restore: "r" };
const MAX_LEN = 36;
const SAFE_PLAN_ID = /^[A-Za-z0-9_-]+$/;

/**
 * Deterministic client order id of a plan: `qp3-c-<planId>` (close), `qp3-s-<planId>` (stop) or
 * `qp3-r-<planId>` (restored stop); chunk `i > 0` of a close sent in several orders ends in `-<i>`.
 * Depends only on its inputs, so a restarted process derives the same id and can look the order up
 * instead of sending a second one. A plan id that is too long or has other characters is replaced by
 * the first 24 hex chars of its SHA-256 (still deterministic). Always ≤ 36 chars of [.A-Z:/a-z0-9_-].
 */
export function clientOrderIdFor(planId: string, purpose: ClientOrderPurpose = "close", chunk = 0): string {
  if (!Number.isSafeInteger(chunk) || chunk < 0 || chunk > 99_999) {
    throw new RangeError(`chunk must be an integer in 0..99999, got ${chunk}`);
  }
  const head = `${PREFIX}-${PURPOSE_TAG[purpose]}-`;
  const tail = chunk > 0 ? `-${chunk}` : "";
  const body =
    planId.length > 0 && SAFE_PLAN_ID.test(planId) && head.length + planId.length + tail.length <= MAX_LEN
      ? planId
      : createHash("sha256").update(planId).digest("hex").slice(0, 24);
  return head + body + tail;
}

/** Whether a client id of this system names a conditional order (a protective stop, placed or restored). */
export function isConditionalClientOrderId(id: string): boolean {
  return (
    id.startsWith(`${PREFIX}-${PURPOSE_TAG.stop}-`) || id.startsWith(`${PREFIX}-${PURPOSE_TAG.restore}-`)
  );
}

export function isValidClientOrderId(id: string): boolean {
  return CLIENT_ORDER_ID_PATTERN.test(id);
}
