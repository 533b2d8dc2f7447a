import { errorText } from "@quantum/contracts";
/** One GET of a service's /health (or /ready). Never throws. */
export async function probe(
  port: number,
  path: "/health" | "/ready" = "/health",
  timeoutMs = 2000,
  host = "127.0.0.1",
): Promise<{ ok: boolean; status: number | null; detail: string }> {
  try {
    const res = await fetch(`http://${host}:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.text()).slice(0, 300);
    return { ok: res.status === 200, status: res.status, detail: body };
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : "";
    return { ok: false, status: null, detail: `${errorText(err)}${cause}` };
  }
}

/** Wait until `path` answers 200; false when `timeoutMs` passed or `alive()` turned false first. */
export async function waitFor200(
  port: number,
  path: "/health" | "/ready",
  timeoutMs: number,
  alive: () => boolean,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && alive()) {
    if ((await probe(port, path, 1000)).ok) return true;
    await new Promise((resolve) => setTimeout(resolve, 100).unref());
  }
  return false;
}

export interface ServiceHealthStats {
  readonly port: number;
  checks: number;
  failures: number;
  /** The first failed probe (status and body or connection error), for the report. */
  firstFailure: string | null;
}

export interface HealthStats {
  /** Rounds in which every service was probed. */
  rounds: number;
  /** Rounds in which every service answered 200. */
  greenRounds: number;
  readonly services: Record<string, ServiceHealthStats>;
}

/**
 * Probes every service's /health on an interval while the stack runs, so the summary (and the state file)
 * can say whether the stack stayed green the whole time.
 */
export class HealthMonitor {
  readonly stats: HealthStats;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;

  constructor(
    ports: Readonly<Record<string, number>>,
    private readonly intervalMs: number,
    private readonly onFailure: (service: string, detail: string) => void,
  ) {
    const services: Record<string, ServiceHealthStats> = {};
    for (const [name, port] of Object.entries(ports)) {
      services[name] = { port, checks: 0, failures: 0, firstFailure: null };
    }
    this.stats = { rounds: 0, greenRounds: 0, services };
  }

  start(): void {
    const tick = () => {
      this.inFlight = this.round().finally(() => {
        this.inFlight = null;
        if (this.timer !== null) {
          this.timer = setTimeout(tick, this.intervalMs);
          this.timer.unref();
        }
      });
    };
    this.timer = setTimeout(tick, 0);
    this.timer.unref();
  }

  /** One round now (also used right before stopping, so even a short run is checked). */
  async round(): Promise<void> {
    const entries = Object.entries(this.stats.services);
    const results = await Promise.all(entries.map(([, s]) => probe(s.port)));
    let green = true;
    entries.forEach(([name, s], i) => {
      const r = results[i]!;
      s.checks++;
      if (r.ok) return;
      green = false;
      s.failures++;
      const detail = `${r.status ?? "no answer"}: ${r.detail}`;
      if (s.firstFailure === null) s.firstFailure = detail;
      this.onFailure(name, detail);
    });
    this.stats.rounds++;
    if (green) this.stats.greenRounds++;
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
  }
}
