/** Resolve after `ms`. The timer does not keep the process alive: a service that is stopping need not wait for it. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref();
  });
}
