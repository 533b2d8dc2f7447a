import type { StatusResult } from "../commands/status.js";
import { renderKillStatus, renderStateShow, serviceRows } from "./control.js";
import { age, type Cell, pctText, table } from "./format.js";
import type { Style } from "./style.js";

export function renderStatus(r: StatusResult, st: Style): string {
  const out = [
    st.bold(`quantum status  ${r.atIso ?? ""}`),
    renderKillStatus(r.killSwitch, st),
    renderStateShow(r.tradingState, st),
    "",
  ];
  out.push(table(serviceRows(r.services, st), ""), "");
  const wrows: Cell[][] = [["WINDOW", "RESULTS", "DECISIONS", "TOP GATE"]];
  for (const w of r.windows) {
    wrows.push([
      w.window,
      String(w.total),
      w.decisions.map((d) => `${d.decision} ${pctText(d.pct)}`).join(" ") || "-",
      w.topGate === null ? "-" : `${w.topGate.reason} (${w.topGate.score})`,
    ]);
  }
  out.push(table(wrows, ""), "");
  if (r.lastResults.length === 0) out.push("last results: none");
  else {
    const rrows: Cell[][] = [["AGE", "PLAN", "SYMBOL", "DECISION", "REASON"]];
    for (const x of r.lastResults) {
      const paint = x.decision === "EXECUTE" ? st.green : x.decision === "ERROR" ? st.red : st.yellow;
      rrows.push([
        age(x.ageSec),
        x.planId ?? "-",
        x.symbol ?? "-",
        { text: x.decision ?? "-", paint },
        x.reason ?? "-",
      ]);
    }
    out.push("last results:", table(rrows));
  }
  if (r.lastAlerts.length > 0) {
    out.push("last alerts:");
    out.push(
      table(
        r.lastAlerts.map((a): Cell[] => [
          { text: a.severity ?? "?", paint: st.red },
          a.reason ?? "-",
          `share ${a.share ?? "?"}`,
          a.timestamp === null ? "-" : new Date(a.timestamp * 1000).toISOString(),
        ]),
      ),
    );
  }
  return out.join("\n");
}
