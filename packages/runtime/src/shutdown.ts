import type { Logger } from "pino";

export interface ShutdownOptions {
  /** Upper bound for all handlers together; default 10 000 ms (exit within 10 s). */
  timeoutMs?: number;
  /** Signals to listen to; default SIGTERM and SIGINT. */
  signals?: readonly NodeJS.Signals[];
}

export interface ShutdownControl {
  /** Resolves with the exit code once shutdown has run: 0 clean, 1 a handler failed or the timeout hit. */
  readonly done: Promise<number>;
  /** Start the shutdown without a signal (e.g. a fatal error); same sequence, resolves like `done`. */
  trigger(reason: string): Promise<number>;
  /** Remove the signal listeners (tests). */
  dispose(): void;
}

/**
 * Install SIGTERM/SIGINT handlers once. On the first signal, run `handlers` in order (stop reading, finish
 * in-flight work, close servers and connections), each failure logged and the next still run, bounded by
 * `timeoutMs`. A second signal cuts the wait short (exit code 1). main.ts does `process.exit(await done)`.
 */
export function onShutdown(
  logger: Logger,
  handlers: ReadonlyArray<() => Promise<void>>,
  opts: ShutdownOptions = {},
): ShutdownControl {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const signals = opts.signals ?? ["SIGTERM", "SIGINT"];
  const log = logger.child({ component: "shutdown" });
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((r) => {
    resolveDone = r;
  });
  let started = false;

  async function runAll(reason: string): Promise<number> {
    const t0 = Date.now();
    log.info({ reason, timeoutMs }, "shutting down");
    let failed = false;
    for (const [i, handler] of handlers.entries()) {
      try {
        await handler();
      } catch (err) {
        failed = true;
        log.error({ err, step: i }, "shutdown step failed");
      }
    }
    log.info({ ms: Date.now() - t0, failed }, "shutdown complete");
    return failed ? 1 : 0;
  }

  function trigger(reason: string): Promise<number> {
    if (started) return done;
    started = true;
    const timer = setTimeout(() => {
      log.error({ timeoutMs }, "shutdown timed out");
      resolveDone(1);
    }, timeoutMs);
    timer.unref();
    runAll(reason).then(
      (code) => {
        clearTimeout(timer);
        resolveDone(code);
      },
      () => resolveDone(1),
    );
    return done;
  }

  const onSignal = (signal: NodeJS.Signals) => {
    if (started) {
      log.warn({ signal }, "second signal, exiting without waiting");
      resolveDone(1);
      return;
    }
    void trigger(signal);
  };
  for (const s of signals) process.on(s, onSignal);

  return {
    done,
    trigger,
    dispose() {
      for (const s of signals) process.off(s, onSignal);
    },
  };
}
