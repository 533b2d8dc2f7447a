import type { HealthResult, ServiceHealth } from "@quantum/insight";
import { type Cell, table } from "./format.js";
import type { Style } from "./style.js";

export function healthRows(services: readonly ServiceHealth[], st: Style): Cell[][] {
  const rows: Cell[][] = [["SERVICE", "HEALTH", "URL", "DETAIL"]];
  for (const s of services) {
    const state = s.ok ? "ok" : s.httpStatus === null ? "down" : `HTTP ${s.httpStatus}`;
    const detail = s.error ?? (s.body ?? "").replace(/\s+/g, " ").slice(0, 80);
    rows.push([
      s.service,
      { text: state, paint: s.ok ? st.green : st.red },
      `${s.url}${s.portSource === "default" ? " (default port)" : ""}`,
      detail,
    ]);
  }
  return rows;
}

export function renderHealth(r: HealthResult, st: Style): string {
  const redis = r.redis.ok
    ? st.green(`redis: ok (PING ${r.redis.latencyMs} ms)`)
    : st.red(`redis: UNREACHABLE (${r.redis.error ?? "?"})`);
  const overall = r.healthy ? st.green(st.bold("all healthy")) : st.red(st.bold("UNHEALTHY"));
  return `${overall}\n${redis}\n${table(healthRows(r.services, st), "")}`;
}
