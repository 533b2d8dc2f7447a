import { keys, streams } from "@quantum/contracts";
import {
  eventually,
  type FakeBinance,
  freePort,
  httpGet,
  readStream,
  type ServiceProcess,
  startFakeBinance,
  startServiceProcess,
  type TestRedis,
} from "@quantum/testkit";
import type { Redis } from "ioredis";
import { fakeCredentials } from "./rig.js";
import { ENTRIES } from "./system.js";

/** The symbols of a model run: long START_AMT each at MARK; SOLUSDT's maxQty forces chunked closes. */
export const MODEL_SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"] as const;
export type ModelSymbol = (typeof MODEL_SYMBOLS)[number];
export const START_AMT = "10.000";
export const MARK = "100.00";
/** A full close of SOLUSDT (10) goes out as three chunks of at most 4. */
const CHUNKED_MAX_QTY: Record<string, string> = { SOLUSDT: "4" };
/** How long a plan waits for permits the run never grants. */
export const PERMIT_WAIT_MS = 2500;

/** One Redis command of the run's database, as MONITOR saw it (server time, serial order). */
export interface MonitoredCommand {
  readonly atMs: number;
  readonly args: readonly string[];
}

/** What the test wrote for a plan's permits, and the venue position they were sized from. */
export interface PermitRecord {
  readonly granted: boolean;
  /** The venue position read when sizing (null: the P3.3 permit was a deny). */
  readonly basisAmt: string | null;
  readonly safeQty: string | null;
  readonly sizedAtMs: number;
}

export interface ProposedPlan {
  readonly planId: string;
  readonly symbol: ModelSymbol;
  readonly action: string;
  readonly slPrice: number | null;
}

/**
 * The real side of one model run: a fresh database of the shared redis-server, a fresh FakeBinance, the
 * Apply Layer process (restarted on its own after a crash-hook SIGKILL, like systemd), and the logs the
 * invariants are judged from: every Redis command of the database (MONITOR), every proposal and permit the
 * run wrote, and every request the venue received.
 */
export class ModelWorld {
  readonly plans: ProposedPlan[] = [];
  readonly permits = new Map<string, PermitRecord>();
  readonly monitored: MonitoredCommand[] = [];
  /** Venue faults armed by the run, with the client order id they wait for (null: the next of their kind). */
  readonly armed: Array<{ name: string; clientOrderId: string | null }> = [];
  /** SIGKILLs made by the run (commands) and by the crash hook. */
  kills = 0;
  /** Set when an incarnation exited on its own other than by the crash hook (the run cannot go on). */
  failure: string | null = null;
  private proc: ServiceProcess | null = null;
  private readonly history: string[] = [];
  private closing = false;
  private monitor: { disconnect(): void } | null = null;

  private constructor(
    readonly redis: TestRedis,
    readonly db: number,
    readonly r: Redis,
    readonly fake: FakeBinance,
    private readonly port: number,
    private readonly consumer: string,
  ) {}

  static async create(redis: TestRedis, db: number, replyDelayMaxMs: number): Promise<ModelWorld> {
    const creds = fakeCredentials(`model${db}`);
    const fake = await startFakeBinance({
      ...creds,
      symbols: MODEL_SYMBOLS.map((symbol) => ({
        symbol,
        stepSize: "0.001",
        minQty: "0.001",
        maxQty: CHUNKED_MAX_QTY[symbol] ?? "100000",
        tickSize: "0.01",
        minNotional: "5",
      })),
      positions: MODEL_SYMBOLS.map((symbol) => ({ symbol, positionAmt: START_AMT, markPrice: MARK })),
      ...(replyDelayMaxMs > 0 ? { replyDelayMs: { minMs: 0, maxMs: replyDelayMaxMs } } : {}),
    });
    const r = redis.client(db);
    await r.flushdb();
    await r.set(keys.killSwitch, "false");
    await r.set(keys.tradingState, "ACTIVE");
    const world = new ModelWorld(redis, db, r, fake, await freePort(), `model-${process.pid}-${db}`);
    await world.startMonitor();
    return world;
  }

  private async startMonitor(): Promise<void> {
    const mon = await this.r.monitor();
    mon.on("monitor", (time: string, args: string[], _source: string, database: string) => {
      if (Number(database) !== this.db) return;
      const cmd = (args[0] ?? "").toLowerCase();
      if (cmd !== "set" && cmd !== "evalsha" && cmd !== "eval") return;
      this.monitored.push({ atMs: Number(time) * 1000, args });
    });
    this.monitor = mon;
  }

  /** Start an incarnation; `crashAt` arms the test-only crash hook for this incarnation only. */
  start(crashAt: string | null = null): void {
    const { apiKey, apiSecret } = fakeCredentials(`model${this.db}`);
    const proc = startServiceProcess({
      entry: ENTRIES.apply,
      env: {
        REDIS_URL: this.redis.url(this.db),
        APPLY_MODE: "testnet",
        BINANCE_TESTNET_API_KEY: apiKey,
        BINANCE_TESTNET_API_SECRET: apiSecret,
        BINANCE_BASE_URL: this.fake.baseUrl,
        APPLY_ALLOW_LOOPBACK_EXCHANGE: "true",
        APPLY_ALLOWLIST: MODEL_SYMBOLS.join(","),
        APPLY_POLL_SEC: "0.2",
        APPLY_PERMIT_WAIT_MS: String(PERMIT_WAIT_MS),
        APPLY_RECOVERY_INTERVAL_SEC: "1",
        PROMETHEUS_PORT: String(this.port),
        APPLY_CONSUMER_NAME: this.consumer,
        APPLY_LOG_LEVEL: "info",
        ...(crashAt !== null ? { APPLY_TEST_CRASH_AT: crashAt } : {}),
      },
    });
    this.proc = proc;
    void proc.exited.then((code) => {
      if (this.proc !== proc) return;
      this.history.push(proc.stdout(), proc.stderr());
      this.proc = null;
      if (this.closing) return;
      if (code !== "SIGKILL") {
        this.failure = `the Apply Layer exited with ${code}`;
        return;
      }
      // The crash hook killed it: come back like a supervisor would (it waits out the old heartbeat).
      this.kills += 1;
      this.start(null);
    });
  }

  /** SIGKILL the running incarnation and start the next (with the crash hook armed if `crashAt`). */
  async killAndRestart(crashAt: string | null): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (proc !== null) {
      await proc.kill();
      this.history.push(proc.stdout(), proc.stderr());
      this.kills += 1;
    }
    this.start(crashAt);
  }

  /** Wait until an incarnation answers /ready (startup recovery done, intake running). */
  async ready(timeoutMs = 30_000): Promise<void> {
    try {
      const failure = await eventually(
        async () => {
          if (this.failure !== null) return this.failure;
          const res = await httpGet(this.port, "/ready").catch(() => ({ status: 0 }));
          if (res.status !== 200) throw new Error(`/ready ${res.status}`);
          return null;
        },
        { timeoutMs, intervalMs: 50, message: "Apply Layer ready" },
      );
      if (failure !== null) throw new Error(failure);
    } catch (err) {
      throw new Error(`${String(err)}\n${this.output()}`);
    }
  }

  /** Wait until each of these plans has its result; false when some still have none after `timeoutMs`. */
  async waitResults(planIds: readonly string[], timeoutMs: number): Promise<boolean> {
    if (planIds.length === 0) return true;
    try {
      await eventually(
        async () => {
          const seen = new Set((await readStream(this.r, streams.applyResult)).map(([, f]) => f.plan_id));
          const missing = planIds.filter((id) => !seen.has(id));
          if (missing.length > 0) throw new Error(`${missing.length} plans without a result`);
        },
        { timeoutMs, intervalMs: 100, message: "results of the plans" },
      );
      return true;
    } catch {
      return false;
    }
  }

  /** A raw SET of a control key, as an operator's redis-cli would; returns when Redis confirmed it. */
  async setControl(key: string, value: string): Promise<void> {
    await this.r.set(key, value);
  }

  /** Every line the Apply Layer incarnations wrote (for failure messages). */
  output(chars = 4000): string {
    const all = [...this.history, this.proc?.stdout() ?? "", this.proc?.stderr() ?? ""].join("\n");
    return all.slice(-chars);
  }

  async close(): Promise<void> {
    this.closing = true;
    const proc = this.proc;
    this.proc = null;
    if (proc !== null) await proc.stop().catch(() => undefined);
    this.monitor?.disconnect();
    await this.fake.close().catch(() => undefined);
  }
}
