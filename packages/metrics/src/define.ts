import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/**
 * Metric constructors that are idempotent per registry: asking twice for the same name returns the handle
 * already registered (so two components of one service can share `createStreamMetrics`), and asking for a
 * name registered as another type throws.
 */

function existing<M>(registry: Registry, name: string, ctor: abstract new (...args: never[]) => M): M | null {
  const found = registry.getSingleMetric(name);
  if (found === undefined) return null;
  if (found instanceof ctor) return found;
  throw new Error(`metric ${name} is already registered with another type`);
}

export function defineCounter<L extends string = never>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Counter<L> {
  return (
    (existing(registry, name, Counter) as Counter<L> | null) ??
    new Counter<L>({ name, help, labelNames, registers: [registry] })
  );
}

export function defineGauge<L extends string = never>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Gauge<L> {
  return (
    (existing(registry, name, Gauge) as Gauge<L> | null) ??
    new Gauge<L>({ name, help, labelNames, registers: [registry] })
  );
}

export function defineHistogram<L extends string = never>(
  registry: Registry,
  name: string,
  help: string,
  buckets: readonly number[],
  labelNames: readonly L[] = [],
): Histogram<L> {
  return (
    (existing(registry, name, Histogram) as Histogram<L> | null) ??
    new Histogram<L>({ name, help, buckets: [...buckets], labelNames, registers: [registry] })
  );
}

/** Export a counter at 0 for every known label value, so dashboards and `rate()` see the series early. */
export function zeroCounter<L extends string>(
  counter: Counter<L>,
  label: NoInfer<L>,
  values: readonly string[],
  extra: Partial<Record<NoInfer<L>, string>> = {},
): void {
  for (const value of values) {
    counter.inc({ ...extra, [label]: value } as Partial<Record<L, string>>, 0);
  }
}
