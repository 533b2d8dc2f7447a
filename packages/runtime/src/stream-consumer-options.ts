import type { DecodeResult } from "@quantum/contracts";
import type { StreamMetrics } from "@quantum/metrics";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

export interface StreamItem<T> {
  id: string;
  value: T;
}

export interface StreamConsumerOptions<T> {
  /** Connection for XACK, XAUTOCLAIM, dead letters, XINFO. */
  redis: Redis;
  /** Separate connection used only for XREADGROUP (it blocks up to blockMs). */
  blocking: Redis;
  stream: string;
  group: string;
  consumer: string;
  service: string;
  /** Start ID when the group is created; default "$". */
  startId?: string;
  /** Entries per read; default 100. */
  batchSize?: number;
  /** XREADGROUP BLOCK in ms, at most 1000 (default 1000); also bounds how long stop() waits for a read. */
  blockMs?: number;
  /** Entries idle longer than this (owned by any consumer) are claimed by the janitor; default 60 000. */
  claimIdleMs?: number;
  /** How often the janitor runs XAUTOCLAIM; default 30 000 (and once at start). */
  janitorIntervalMs?: number;
  /**
   * Most entries handed to handleBatch at once; default batchSize (one batch at a time, in stream order).
   * Above batchSize, batches overlap (new ones are read while earlier ones run) up to this many entries.
   */
  maxInFlight?: number;
  /** Retry backoff after an error or unacknowledged entries: min…max ms (default 100…2000). */
  retryMinMs?: number;
  retryMaxMs?: number;
  decode: (fields: Record<string, string>, id: string) => DecodeResult<T>;
  /**
   * Handle decoded entries; resolve to the ids whose effect is written (they are ACKed, in one XACK). Ids not
   * returned stay pending and are retried after a backoff. Throwing = nothing of the batch is ACKed.
   */
  handleBatch: (items: StreamItem<T>[]) => Promise<readonly string[]>;
  /**
   * The handler acknowledges the ids it returns itself, in the same atomic step as their effect (a script
   * that writes and XACKs): the consumer then XACKs only dead-lettered entries and entries gone from the
   * stream, so a counted batch is acknowledged once. Default false: the consumer XACKs the returned ids.
   */
  handlerAcks?: boolean;
  logger: Logger;
  metrics?: StreamMetrics;
  /**
   * Room downstream (backpressure). Before each read or claim the consumer takes slots and asks Redis for at
   * most that many entries; a slot is given back once its entry was processed (or when fewer entries came).
   * While no slot is free nothing is read: new entries stay in the stream, unread and unacknowledged.
   */
  slots?: StreamSlots;
}

/** Slots the consumer must hold to read entries; see `StreamConsumerOptions.slots`. */
export interface StreamSlots {
  /** Take up to `wanted` slots now; returns how many were taken. */
  reserve(wanted: number): number;
  /** Give back `n` slots. */
  release(n: number): void;
  /** Resolves when a slot may be free. */
  whenFree(): Promise<void>;
}
