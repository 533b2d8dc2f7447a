import { keys } from "@quantum/contracts";
import {
  type FakeBinance,
  type FakeBinanceOptions,
  startFakeBinance,
  startTestRedis,
  type TestRedis,
} from "@quantum/testkit";
import { afterAll, beforeAll } from "vitest";
import { testnetEnv } from "./helpers.js";
import { startVenueProxy, type VenueProxy } from "./venue-proxy.js";

export interface TestnetRigOptions {
  /** The key pair the fake venue accepts and the Apply Layer signs with. */
  readonly api: { readonly apiKey: string; readonly apiSecret: string };
  /** The fake venue's symbols, positions and limits. */
  readonly venue?: Omit<FakeBinanceOptions, "apiKey" | "apiSecret">;
  /** Databases the tests use; their kill switch is set off (a missing switch halts trading). */
  readonly dbs: readonly number[];
  /** Point `env` at the rig's VenueProxy instead of the fake venue itself. */
  readonly viaProxy?: boolean;
  /** Delay of each answer passed through the proxy, ms (none by default). */
  readonly proxyLatencyMs?: () => number;
  /** Env every Apply Layer of the rig gets on top of the testnet env. */
  readonly env?: Record<string, string>;
}

/** A test Redis and a FakeBinance with a VenueProxy in front of it, for Apply Layers in testnet mode. */
export interface TestnetRig {
  readonly redis: TestRedis;
  readonly fake: FakeBinance;
  readonly proxy: VenueProxy;
  /** Env of an Apply Layer in testnet mode on database `db` against the rig's venue. */
  env(db: number, over?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

export async function startTestnetRig(o: TestnetRigOptions): Promise<TestnetRig> {
  const redis = await startTestRedis();
  const fake = await startFakeBinance({ ...o.api, ...o.venue });
  const proxy = await startVenueProxy(
    fake.baseUrl,
    o.proxyLatencyMs === undefined ? {} : { latencyMs: o.proxyLatencyMs },
  );
  for (const db of o.dbs) await redis.client(db).set(keys.killSwitch, "false");
  const baseUrl = o.viaProxy === true ? proxy.baseUrl : fake.baseUrl;
  return {
    redis,
    fake,
    proxy,
    env: (db, over = {}) => testnetEnv(redis, db, baseUrl, o.api, { ...o.env, ...over }),
    close: async () => {
      await proxy.close();
      await fake.close();
      await redis.stop();
    },
  };
}

/**
 * A rig for the tests of one file: started in a beforeAll, closed in an afterAll (after the file's own
 * afterAll hooks). Its parts can be read once the rig has started.
 */
export function useTestnetRig(o: TestnetRigOptions): TestnetRig {
  let rig: TestnetRig | null = null;
  const started = (): TestnetRig => {
    if (rig === null) throw new Error("the testnet rig is read before its beforeAll started it");
    return rig;
  };
  beforeAll(async () => {
    rig = await startTestnetRig(o);
  });
  afterAll(async () => {
    await rig?.close();
  });
  return {
    get redis() {
      return started().redis;
    },
    get fake() {
      return started().fake;
    },
    get proxy() {
      return started().proxy;
    },
    env: (db, over) => started().env(db, over),
    close: () => started().close(),
  };
}
