import { fileURLToPath } from "node:url";
import { groups, streams } from "@quantum/contracts";
import {
  eventually,
  type FakeSymbolSpec,
  freePort,
  httpGet,
  type ServiceProcess,
  startServiceProcess,
} from "@quantum/testkit";
import type { Redis } from "ioredis";

/** The built entries (devDependencies of this package, built before its tests run). */
const entry = (pkg: string, file: string): string =>
  fileURLToPath(new URL(`../../node_modules/@quantum/${pkg}/dist/${file}`, import.meta.url));

/**
 * Entries of the processes. `RELIABILITY_ENTRY_<APPLY|P33|P35|GOVERNOR|CLI>=<path>` runs the suite against
 * another build (e.g. a deliberately broken copy, to show a test fails when its promise is broken).
 */
export const ENTRIES = {
  apply: process.env.RELIABILITY_ENTRY_APPLY ?? entry("apply-layer", "main.js"),
  p33: process.env.RELIABILITY_ENTRY_P33 ?? entry("position-state-brain", "main.js"),
  p35: process.env.RELIABILITY_ENTRY_P35 ?? entry("decision-intelligence", "main.js"),
  governor: process.env.RELIABILITY_ENTRY_GOVERNOR ?? entry("devtools", "governor-main.js"),
  cli: process.env.RELIABILITY_ENTRY_CLI ?? entry("cli", "main.js"),
} as const;

export type ServiceName = "apply" | "p33" | "p35" | "governor";
/** The three services of this repo (they have /health); the dev governor has none. */
export const SERVICES: readonly ServiceName[] = ["apply", "p33", "p35"];
export const ALL_PROCESSES: readonly ServiceName[] = ["governor", "p33", "p35", "apply"];

/** Twenty contracts with the same small filters, so many plans run side by side (one in flight per symbol). */
export const SYMBOLS: readonly string[] = [
  "BTCUSDT",
  "ETHUSDT",
  "SOLUSDT",
  "XRPUSDT",
  "ADAUSDT",
  "DOGEUSDT",
  "BNBUSDT",
  "LTCUSDT",
  "DOTUSDT",
  "LINKUSDT",
  "AVAXUSDT",
  "TRXUSDT",
  "ATOMUSDT",
  "NEARUSDT",
  "FILUSDT",
  "APTUSDT",
  "ARBUSDT",
  "OPUSDT",
  "SUIUSDT",
  "INJUSDT",
];

export const MARK_PRICE = "100.00";
/** Each symbol starts long this much: ten PARTIAL_50 closes still leave 1.000 (step 0.001). */
export const START_POSITION = "1024.000";

export function fakeSymbols(symbols: readonly string[] = SYMBOLS): FakeSymbolSpec[] {
  return symbols.map((symbol) => ({
    symbol,
    stepSize: "0.001",
    minQty: "0.001",
    maxQty: "100000",
    tickSize: "0.01",
    minNotional: "5",
  }));
}

export function fakePositions(symbols: readonly string[] = SYMBOLS) {
  return symbols.map((symbol) => ({ symbol, positionAmt: START_POSITION, markPrice: MARK_PRICE }));
}

export interface SystemOptions {
  /** Redis connection variables shared by every process (REDIS_URL, or REDIS_SENTINELS + name, ...). */
  redisEnv: Record<string, string>;
  /** Fake exchange base URL and its credentials (Apply Layer testnet mode, P3.3 testnet venue). */
  exchange: { baseUrl: string; apiKey: string; apiSecret: string };
  symbols?: readonly string[];
  /** Per-process overrides. */
  env?: Partial<Record<ServiceName, Record<string, string | undefined>>>;
  /** Tag for consumer names (one system per file). */
  tag: string;
}

interface Slot {
  readonly name: ServiceName;
  readonly port: number;
  proc: ServiceProcess | null;
  /** Output of every earlier incarnation (kept for the secrets scan and for failures). */
  readonly history: string[];
  starts: number;
}

/**
 * The whole system as real processes: dev governor, P3.3, P3.5 and the Apply Layer (testnet mode against
 * FakeBinance), each on a fixed metrics port and a stable consumer name, so a restarted process re-reads
 * its own pending entries like a systemd restart would.
 */
export class QuantumSystem {
  private readonly slots = new Map<ServiceName, Slot>();

  private constructor(private readonly o: SystemOptions) {}

  static async create(o: SystemOptions): Promise<QuantumSystem> {
    const sys = new QuantumSystem(o);
    for (const name of ALL_PROCESSES) {
      sys.slots.set(name, { name, port: await freePort(), proc: null, history: [], starts: 0 });
    }
    return sys;
  }

  get symbols(): readonly string[] {
    return this.o.symbols ?? SYMBOLS;
  }

  port(name: ServiceName): number {
    return this.slot(name).port;
  }

  proc(name: ServiceName): ServiceProcess | null {
    return this.slot(name).proc;
  }

  starts(name: ServiceName): number {
    return this.slot(name).starts;
  }

  /** Whether the current incarnation is still running. */
  running(name: ServiceName): boolean {
    const p = this.slot(name).proc;
    return p !== null && p.proc.exitCode === null && p.proc.signalCode === null;
  }

  envFor(
    name: ServiceName,
    extra: Record<string, string | undefined> = {},
  ): Record<string, string | undefined> {
    const { exchange, redisEnv, tag } = this.o;
    const symbols = this.symbols.join(",");
    const port = String(this.port(name));
    const consumer = `${tag}-${name}`;
    const base: Record<ServiceName, Record<string, string | undefined>> = {
      governor: { GOVERNOR_CONSUMER_NAME: consumer, LOG_LEVEL: "info" },
      p33: {
        P33_EXCHANGE: "testnet",
        BINANCE_TESTNET_API_KEY: exchange.apiKey,
        BINANCE_TESTNET_API_SECRET: exchange.apiSecret,
        BINANCE_BASE_URL: exchange.baseUrl,
        APPLY_ALLOW_LOOPBACK_EXCHANGE: "true",
        P33_ALLOWLIST: symbols,
        P33_POLL_SEC: "0.2",
        // A positions call every 0.2 s weighs 1,500 of the IP's 2,400 per minute: more than P3.3's default share.
        EXCHANGE_RATE_LIMIT_SHARE_PCT: "100",
        P33_COOLDOWN_SEC: "0",
        P33_QTY_TOLERANCE_PCT: "1",
        P33_CLAIM_IDLE_MS: "2000",
        P33_METRICS_PORT: port,
        P33_CONSUMER_NAME: consumer,
        P33_LOG_LEVEL: "info",
      },
      p35: {
        P35_METRICS_PORT: port,
        P35_CONSUMER_NAME: consumer,
        P35_SNAPSHOT_INTERVAL_SEC: "0.5",
        P35_CLAIM_IDLE_MS: "2000",
        LOG_LEVEL: "info",
      },
      apply: {
        APPLY_MODE: "testnet",
        BINANCE_TESTNET_API_KEY: exchange.apiKey,
        BINANCE_TESTNET_API_SECRET: exchange.apiSecret,
        BINANCE_BASE_URL: exchange.baseUrl,
        APPLY_ALLOW_LOOPBACK_EXCHANGE: "true",
        APPLY_ALLOWLIST: symbols,
        APPLY_POLL_SEC: "0.2",
        APPLY_PERMIT_WAIT_MS: "10000",
        APPLY_RECOVERY_INTERVAL_SEC: "1",
        PROMETHEUS_PORT: port,
        APPLY_CONSUMER_NAME: consumer,
        APPLY_LOG_LEVEL: "info",
      },
    };
    return { ...redisEnv, ...base[name], ...this.o.env?.[name], ...extra };
  }

  /** Start one process (a new incarnation); `extra` env applies to this incarnation only. */
  start(name: ServiceName, extra: Record<string, string | undefined> = {}): ServiceProcess {
    const slot = this.slot(name);
    if (this.running(name)) throw new Error(`${name} is already running`);
    this.archive(slot);
    slot.proc = startServiceProcess({ entry: ENTRIES[name], env: this.envFor(name, extra) });
    slot.starts += 1;
    return slot.proc;
  }

  /** Start every process (governor and P3.3 first, so their groups read apply.plan before plans exist). */
  async startAll(r: Redis): Promise<void> {
    this.start("governor");
    this.start("p33");
    this.start("p35");
    await Promise.all([this.waitHealthy("p33"), this.waitHealthy("p35")]);
    await eventually(
      async () => {
        const info = (await r.xinfo("GROUPS", streams.applyPlan)) as unknown[][];
        const names = info.map((g) => String(g[1]));
        return names.includes(groups.governor) && names.includes(groups.p33);
      },
      { timeoutMs: 20_000, message: "governor and p33 groups on apply.plan" },
    );
    this.start("apply");
    await this.waitHealthy("apply");
  }

  /** /health 200 (and for the Apply Layer /ready 200: startup recovery done, intake running). */
  async waitHealthy(name: ServiceName, timeoutMs = 30_000): Promise<void> {
    if (name === "governor") return;
    const port = this.port(name);
    const proc = this.slot(name).proc;
    if (proc === null) throw new Error(`${name} was never started`);
    try {
      const exited = proc.exited.then((code) => {
        throw new Error(`${name} exited with ${code}`);
      });
      await Promise.race([
        exited,
        eventually(
          async () => {
            const h = await httpGet(port, "/health");
            if (h.status !== 200) throw new Error(`health ${h.status}`);
            const r = await httpGet(port, "/ready");
            if (r.status !== 200) throw new Error(`ready ${r.status}`);
            return true;
          },
          { timeoutMs, intervalMs: 50, message: `${name} healthy` },
        ),
      ]);
      exited.catch(() => undefined);
    } catch (err) {
      throw new Error(`${String(err)}\n${this.tail(name)}`);
    }
  }

  /** /health status code of a service (0 when it does not answer). */
  async health(name: ServiceName): Promise<number> {
    try {
      return (await httpGet(this.port(name), "/health")).status;
    } catch {
      return 0;
    }
  }

  async kill(name: ServiceName): Promise<void> {
    const p = this.slot(name).proc;
    if (p !== null) await p.kill();
  }

  async stop(name: ServiceName): Promise<number | string | null> {
    const p = this.slot(name).proc;
    return p === null ? null : p.stop();
  }

  async stopAll(): Promise<void> {
    // Apply first (it owns plans in flight), then the rest.
    await this.stop("apply");
    await Promise.all(["governor", "p33", "p35"].map((n) => this.stop(n as ServiceName)));
  }

  /** Every byte any incarnation of any process wrote to stdout or stderr. */
  allOutput(): string {
    const parts: string[] = [];
    for (const slot of this.slots.values()) {
      parts.push(...slot.history);
      if (slot.proc !== null) parts.push(slot.proc.stdout(), slot.proc.stderr());
    }
    return parts.join("\n");
  }

  /** The last lines of a process's output (for failure messages). */
  tail(name: ServiceName, chars = 3000): string {
    const p = this.slot(name).proc;
    if (p === null) return `${name}: not started`;
    return `--- ${name} stderr ---\n${p.stderr().slice(-chars)}\n--- ${name} stdout ---\n${p.stdout().slice(-chars)}`;
  }

  private archive(slot: Slot): void {
    if (slot.proc !== null) slot.history.push(slot.proc.stdout(), slot.proc.stderr());
    slot.proc = null;
  }

  private slot(name: ServiceName): Slot {
    const s = this.slots.get(name);
    if (s === undefined) throw new Error(`unknown process ${name}`);
    return s;
  }
}
