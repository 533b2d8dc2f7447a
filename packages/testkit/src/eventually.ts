import { errorText } from "@quantum/contracts";
export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
  message?: string;
}

/**
 * Poll `fn` until it returns without throwing (and, if it returns a boolean, returns true).
 * Resolves with its value; rejects with the last error once `timeoutMs` has passed.
 */
export async function eventually<T>(
  fn: () => T | Promise<T>,
  opts: EventuallyOptions = {},
): Promise<Exclude<T, false>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v !== false) return v as Exclude<T, false>;
      lastErr = new Error("condition returned false");
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() >= deadline) {
      const why = errorText(lastErr);
      const e = new Error(
        `eventually: timed out after ${timeoutMs} ms${opts.message ? ` (${opts.message})` : ""}: ${why}`,
      );
      (e as Error & { cause?: unknown }).cause = lastErr;
      throw e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
