/** One named check of a health report (redis, loops, …). */
export interface HealthCheck {
  ok: boolean;
  /** Short human-readable detail, e.g. "ping timed out" or "last loop 120 ms ago". */
  detail?: string;
}

/** What a service's health function answers; `/health` is 200 only when status is "ok". */
export interface HealthReport {
  status: "ok" | "fail";
  checks: Record<string, HealthCheck>;
}

/** Build a report from checks: "ok" only when every check is ok. */
export function healthReport(checks: Record<string, HealthCheck>): HealthReport {
  const ok = Object.values(checks).every((c) => c.ok);
  return { status: ok ? "ok" : "fail", checks };
}
