import type { FakeFaultSpec } from "@quantum/testkit";
import type { ModelWorld } from "./model-world.js";

/**
 * The venue faults of the model test, in the venue's terms. Each applies to the next matching request; a
 * fault armed for a plan names that plan's client order id, so it waits for the request that matters (the
 * close's POST, the new stop's POST, the lookup of that order) instead of being spent by another plan's.
 */
const ORDER = { method: "POST", path: "/fapi/v1/order" } as const;
const STOP = { method: "POST", path: "/fapi/v1/algoOrder" } as const;
const LOOKUP = { method: "GET", path: "/fapi/v1/order" } as const;

export const FAULTS: Readonly<Record<string, FakeFaultSpec>> = {
  /** The close filled, the answer is a 202 with the FILLED body. */
  accepted202: { ...ORDER, kind: "statusAfterFill", status: 202 },
  /** The close filled, the answer does not parse. */
  garbled: { ...ORDER, kind: "garbledAfterFill" },
  /** 503 with an HTML body: the close was not processed, but the sender cannot know. */
  serverError: { ...ORDER, kind: "serverError", status: 503 },
  /** The close filled, the connection was dropped before the answer. */
  dropAfterFill: { ...ORDER, kind: "dropAfterFill" },
  rateLimited: { ...ORDER, kind: "rateLimit", status: 429, retryAfterSec: 1 },
  /** The close is held 700 ms before the venue processes it. */
  slowPost: { ...ORDER, kind: "slow", delayMs: 700 },
  slowLookup: { ...LOOKUP, kind: "slow", delayMs: 600 },
  /** The lookup before the send fails: nothing may be sent. */
  lookupError: { ...LOOKUP, kind: "serverError", status: 503 },
  slowStopLookup: { method: "GET", path: "/fapi/v1/algoOrder", kind: "slow", delayMs: 600 },
  stopWouldTrigger: { ...STOP, kind: "reject", code: -2021, msg: "Order would immediately trigger." },
  /** The new stop's POST answered 503 unprocessed: looked up, not found, the old stop placed again. */
  stopServerError: { ...STOP, kind: "serverError", status: 503 },
  stopRateLimited: { ...STOP, kind: "rateLimit", status: 429, retryAfterSec: 1 },
  /** The cancel of the working stop answered 503: looked up before anything else happens. */
  cancelServerError: { method: "DELETE", path: "/fapi/v1/algoOrder", kind: "serverError", status: 503 },
};

/** Faults a close's requests meet (armed for its first order), and those an UPDATE_SL's requests meet. */
export const ORDER_FAULTS = [
  "accepted202",
  "dropAfterFill",
  "serverError",
  "garbled",
  "rateLimited",
  "slowPost",
  "slowLookup",
  "lookupError",
] as const;
export const STOP_FAULTS = [
  "stopWouldTrigger",
  "stopServerError",
  "stopRateLimited",
  "cancelServerError",
  "slowStopLookup",
] as const;

/** Arm a fault at the venue; with `clientOrderId` only for requests about that order (cancels: any). */
export function armFault(w: ModelWorld, name: string, clientOrderId: string | null): void {
  const spec = FAULTS[name];
  if (spec === undefined) throw new Error(`unknown fault ${name}`);
  const aboutOrder = clientOrderId !== null && spec.method !== "DELETE";
  w.armed.push({ name, clientOrderId: aboutOrder ? clientOrderId : null });
  w.fake.injectFault(aboutOrder ? { ...spec, clientOrderId } : spec);
}
