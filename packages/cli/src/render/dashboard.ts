import type {
  DashboardAllResult,
  DashboardResult,
  P35Freshness,
  QueryAResult,
  QueryBResult,
  QueryCResult,
  QueryDResult,
  QueryEResult,
} from "@quantum/insight";
import { age, type Cell, pctText, table } from "./format.js";
import { healthRows } from "./health.js";
import type { Style } from "./style.js";

const title = (st: Style, t: string) => st.bold(`== ${t} ==`);

function freshnessLine(p: P35Freshness, st: Style): string {
  if (!p.present) return st.yellow("P3.5 status hash missing: is decision-intelligence running? (query e)");
  const last = p.lastAgeSec === null ? "no result yet" : `last result ${age(p.lastAgeSec)} ago`;
  return st.dim(`P3.5: ${last}, processed_total ${p.processedTotal ?? "?"}`);
}

export function renderQueryA(r: QueryAResult, st: Style): string {
  const out = [title(st, "A) Why are we not trading? (5m window)")];
  if (r.total === 0) {
    out.push("no results in the 5m window", freshnessLine(r.p35, st));
    return out.join("\n");
  }
  out.push(
    `results ${r.total}   skip rate ${pctText(r.skipRatePct)}   execute rate ${pctText(r.executeRatePct)}`,
    table([
      ["DECISION", "COUNT", "SHARE"],
      ...r.decisions.map((d) => [d.decision, String(d.count), pctText(d.pct)]),
    ]),
    `top ${r.reasons.length} reasons ("none" = success, not a gate):`,
    table([
      ["REASON", "COUNT", "SHARE"],
      ...r.reasons.map((x): Cell[] => [
        x.success ? { text: `${x.reason} (success)`, paint: st.green } : x.reason,
        String(x.score),
        pctText(x.pct),
      ]),
    ]),
    freshnessLine(r.p35, st),
  );
  return out.join("\n");
}

export function renderQueryB(r: QueryBResult, st: Style): string {
  const out = [title(st, `B) Decisions and top gates per symbol (${r.window} window)`)];
  if (r.symbols.length === 0) out.push(`no per-symbol results in the ${r.window} window`);
  for (const s of r.symbols) {
    if (s.total === 0) {
      out.push(`${st.bold(s.symbol)}: no results in the ${r.window} window`);
      continue;
    }
    const successPct = pctText(Math.round((s.success / s.total) * 10_000) / 100);
    const mix = s.decisions.map((d) => `${d.decision} ${d.count} (${pctText(d.pct)})`).join(", ");
    out.push(`${st.bold(s.symbol)}: ${s.total} results, ${st.green(`${s.success} success (${successPct})`)}`);
    if (mix !== "") out.push(`  ${mix}`);
    if (s.gates.length === 0) out.push("  no gates");
    else
      out.push(
        table(
          [["GATE", "COUNT", "SHARE"], ...s.gates.map((g) => [g.reason, String(g.score), pctText(g.pct)])],
          "    ",
        ),
      );
    if (s.otherGates > 0) out.push(st.dim(`    (+${s.otherGates} in other gates)`));
  }
  out.push(freshnessLine(r.p35, st));
  return out.join("\n");
}

export function renderQueryC(r: QueryCResult, st: Style): string {
  const out = [title(st, `C) Gate share (5m window, ${r.total} results)`)];
  if (r.total === 0) return [...out, "no results in the 5m window"].join("\n");
  out.push(st.green(`success (none): ${r.success.score} (${pctText(r.success.pct)})`));
  if (r.gates.length === 0) out.push("no gates");
  else
    out.push(
      table([
        ["GATE", "COUNT", "SHARE"],
        ...r.gates.map((g): Cell[] => [
          g.overThreshold ? { text: g.reason, paint: st.red } : g.reason,
          String(g.score),
          g.overThreshold ? { text: pctText(g.pct), paint: st.red } : pctText(g.pct),
        ]),
      ]),
    );
  if (r.warnings.length === 0) out.push(st.green(`no single gate above ${r.thresholdPct}%`));
  for (const w of r.warnings) {
    out.push(
      st.red(`WARNING: gate ${w.reason} holds ${pctText(w.pct)} of all results (> ${r.thresholdPct}%)`),
    );
  }
  return out.join("\n");
}

export function renderQueryD(r: QueryDResult, st: Style): string {
  const out = [title(st, `D) Drift detection (threshold ${r.thresholdPct}%, 5m window, ${r.total} results)`)];
  if (!r.enoughData) {
    out.push(
      r.total === 0
        ? "no results in the 5m window: nothing to judge"
        : `not enough data: ${r.total} results (< --min-total ${r.minTotal})`,
    );
    return out.join("\n");
  }
  if (r.crossed.length === 0) {
    const top =
      r.topGate === null ? "no gates at all" : `top gate ${r.topGate.reason} at ${pctText(r.topGate.pct)}`;
    out.push(st.green(`OK: no gate above ${r.thresholdPct}% (${top}; ${r.gatesChecked} gates checked)`));
    return out.join("\n");
  }
  out.push(st.red(st.bold(`DRIFT: ${r.crossed.length} gate(s) above ${r.thresholdPct}% of all results:`)));
  out.push(
    table(
      r.crossed.map((g): Cell[] => [
        { text: g.reason, paint: st.red },
        pctText(g.pct),
        `(${g.score} of ${r.total})`,
      ]),
    ),
  );
  out.push("action: look the gate up in the action mapping guide (docs) and run query b for the symbols");
  return out.join("\n");
}

export function renderQueryE(r: QueryEResult, st: Style): string {
  const out = [title(st, "E) Service health")];
  const p = r.p35Status;
  if (!p.present)
    out.push(
      st.red("P3.5 status: MISSING (quantum:p35:status absent: decision-intelligence never ran here)"),
    );
  else
    out.push(
      table([
        ["processed_total", String(p.processedTotal ?? "-")],
        ["last result", p.lastIso === null ? "-" : `${p.lastIso} (${age(p.lastAgeSec)} ago)`],
        ["last_id", p.lastId ?? "-"],
        ["pending / lag", `${p.pending ?? "-"} / ${p.lag ?? "-"}`],
        ["consumer", p.consumerName ?? "-"],
      ]),
    );
  const rows: Cell[][] = [["STREAM", "GROUP", "PENDING", "LAG", "CONSUMERS", "LAST-DELIVERED"]];
  for (const g of r.groups) {
    if (!g.groupExists) {
      rows.push([
        g.stream,
        g.group,
        { text: g.streamExists ? "no group" : "no stream", paint: st.yellow },
        "-",
        "-",
        "-",
      ]);
      continue;
    }
    const pend = String(g.pending ?? "-");
    rows.push([
      g.stream,
      g.group,
      (g.pending ?? 0) > 0 ? { text: pend, paint: st.yellow } : pend,
      g.lag === null ? "?" : String(g.lag),
      String(g.consumers ?? "-"),
      g.lastDeliveredId ?? "-",
    ]);
  }
  out.push(table(rows, ""), table(healthRows(r.services, st), ""));
  out.push(r.healthy ? st.green("healthy") : st.red(st.bold("UNHEALTHY")));
  return out.join("\n");
}

function renderAll(r: DashboardAllResult, st: Style): string {
  return [
    renderQueryA(r.a, st),
    renderQueryB(r.b, st),
    renderQueryC(r.c, st),
    renderQueryD(r.d, st),
    renderQueryE(r.e, st),
  ].join("\n\n");
}

export function renderDashboard(r: DashboardResult, st: Style): string {
  switch (r.query) {
    case "a":
      return renderQueryA(r, st);
    case "b":
      return renderQueryB(r, st);
    case "c":
      return renderQueryC(r, st);
    case "d":
      return renderQueryD(r, st);
    case "e":
      return renderQueryE(r, st);
    case "all":
      return renderAll(r, st);
  }
}
