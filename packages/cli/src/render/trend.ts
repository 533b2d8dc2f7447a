import type { TrendResult, TrendRow } from "../commands/trend.js";
import { pctText, table } from "./format.js";
import type { Style } from "./style.js";

function pp(x: number): string {
  return `${x > 0 ? "+" : ""}${x.toFixed(2)} pp`;
}

function cells(name: string, r: TrendRow): string[] {
  return [
    name,
    String(r.current.count),
    pctText(r.current.pct),
    String(r.previous.count),
    pctText(r.previous.pct),
    pp(r.changePp),
    r.countChangePct === null ? "new" : `${r.countChangePct > 0 ? "+" : ""}${r.countChangePct.toFixed(2)}%`,
  ];
}

const HEAD = ["NOW", "SHARE", "BEFORE", "SHARE", "CHANGE", "COUNT CHANGE"];

export function renderTrend(r: TrendResult, st: Style): string {
  const c = r.current;
  const p = r.previous;
  const out = [
    st.bold(
      `== Trend: last ${r.days} days (${c.from}..${c.to}) vs the ${r.days} before (${p.from}..${p.to}) ==`,
    ),
    `results ${c.total} vs ${p.total}; daily rollups ${c.daysWithRollup}/${r.days} and ${p.daysWithRollup}/${r.days}`,
  ];
  const missing = [...p.missingDays, ...c.missingDays];
  if (missing.length > 0) out.push(st.yellow(`no rollup for ${missing.join(" ")}`));
  if (c.total === 0 && p.total === 0) {
    out.push("no results in either period");
    return out.join("\n");
  }
  out.push(
    "decision mix:",
    table([["DECISION", ...HEAD], ...r.decisions.map((d) => cells(d.decision, d))]),
    `top gates (share of all results):`,
    r.gates.length === 0
      ? "  no gates"
      : table([["GATE", ...HEAD], ...r.gates.map((g) => cells(g.reason, g))]),
  );
  return out.join("\n");
}
