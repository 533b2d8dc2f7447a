import type { Counter, Gauge, Registry } from "prom-client";
import { defineCounter, defineGauge } from "./define.js";

/** Outcome label of quantum_stream_messages_total. */
export const STREAM_OUTCOMES = ["processed", "deadletter", "failed", "reclaimed"] as const;
export type StreamOutcome = (typeof STREAM_OUTCOMES)[number];

/** What a StreamConsumer reports; all series carry the service label given at creation. */
export interface StreamMetrics {
  /** Count `n` entries of `stream` with an outcome (quantum_stream_messages_total). */
  message(stream: string, outcome: StreamOutcome, n?: number): void;
  /** Count one dead-lettered entry read from `stream` (quantum_deadletter_total). */
  deadLetter(stream: string, n?: number): void;
  /** Set the group's pending count for `stream` (quantum_stream_pending). */
  pending(stream: string, count: number): void;
  /** Set quantum_redis_up to 1 or 0. */
  redisUp(up: boolean): void;
  /** Export zero-valued series for a stream (call once per consumed stream). */
  registerStream(stream: string): void;
  readonly handles: {
    messages: Counter<"service" | "stream" | "outcome">;
    deadLetters: Counter<"service" | "stream">;
    pending: Gauge<"service" | "stream">;
    redisUp: Gauge<"service">;
  };
}

export function createStreamMetrics(registry: Registry, service: string): StreamMetrics {
  const handles = {
    messages: defineCounter(
      registry,
      "quantum_stream_messages_total",
      "Stream entries handled by a consumer, by outcome (processed, deadletter, failed, reclaimed).",
      ["service", "stream", "outcome"],
    ),
    deadLetters: defineCounter(
      registry,
      "quantum_deadletter_total",
      "Entries written to the dead-letter stream because they could not be decoded.",
      ["service", "stream"],
    ),
    pending: defineGauge(
      registry,
      "quantum_stream_pending",
      "Entries delivered to the consumer group but not yet acknowledged (XPENDING).",
      ["service", "stream"],
    ),
    redisUp: defineGauge(registry, "quantum_redis_up", "1 while Redis answers this service, else 0.", [
      "service",
    ]),
  };
  return {
    handles,
    message(stream, outcome, n = 1) {
      handles.messages.inc({ service, stream, outcome }, n);
    },
    deadLetter(stream, n = 1) {
      handles.deadLetters.inc({ service, stream }, n);
    },
    pending(stream, count) {
      handles.pending.set({ service, stream }, count);
    },
    redisUp(up) {
      handles.redisUp.set({ service }, up ? 1 : 0);
    },
    registerStream(stream) {
      for (const outcome of STREAM_OUTCOMES) handles.messages.inc({ service, stream, outcome }, 0);
      handles.deadLetters.inc({ service, stream }, 0);
      handles.pending.set({ service, stream }, 0);
    },
  };
}
