import { TimeoutError } from "./timeout-error.js";

/** `p`, or a TimeoutError after `ms` (the work behind `p` is not cancelled). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A sleep that `wake()` ends early (for loops that must stop promptly). */
export class WakeableSleep {
  private wakeFn: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeFn = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wakeFn = done;
    });
  }

  wake(): void {
    this.wakeFn?.();
  }
}
