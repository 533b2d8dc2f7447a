import { collectDefaultMetrics, Registry } from "prom-client";
import { defineGauge } from "./define.js";

export interface ServiceIdentity {
  /** Service name, e.g. "apply-layer". */
  service: string;
  /** Mode or venue the service runs as (dry_run, paper, testnet, production). */
  mode: string;
  /** Release version. */
  version: string;
}

/**
 * A fresh registry for one service: prom-client's default process metrics
 * (`process_resident_memory_bytes`, event-loop lag, GC, …) plus `quantum_service_info{service,mode,version} 1`.
 */
export function createServiceRegistry(identity: ServiceIdentity): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const info = defineGauge(
    registry,
    "quantum_service_info",
    "Identity of this service process (always 1): service name, mode and release version.",
    ["service", "mode", "version"],
  );
  info.set({ service: identity.service, mode: identity.mode, version: identity.version }, 1);
  return registry;
}
